//! Retail contracts (零售合同): a customer's term (usually twelve months),
//! its contracted volume by month, the price package it binds (by
//! version), and the deviation clause (偏差条款). An amendment is a new
//! version of the contract; a bill names the version it was rated under.
//!
//! Must not: rate (that is `rating`) or touch the store.
use serde::{Deserialize, Serialize};
use voltex_model::{Violation, Violations};
use voltex_store::Entity;

use crate::money::{Bp, PricePerKwh, Wh};
use crate::month::Month;

/// What energy outside the tolerance band costs the customer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeviationCharge {
    /// No charge: the retailer carries the deviation.
    None,
    /// A fixed price per kWh outside the band.
    FixedPrice { price: PricePerKwh },
}

/// The deviation clause: a tolerance band around the month's contracted
/// volume and the charge for energy beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeviationClause {
    /// Tolerance either side of the contracted volume (1000 = ±10 %).
    pub band: Bp,
    pub charge: DeviationCharge,
}

/// A retail contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub id: String,
    pub customer_id: String,
    pub retailer_id: String,
    pub package_id: String,
    /// The package version the contract binds; a new package version
    /// applies only through an amendment.
    pub package_version: i64,
    /// First month of the term.
    pub start: Month,
    /// Contracted annual volume, Wh.
    pub annual_wh: Wh,
    /// Contracted volume of each month of the term, from `start`; sums to
    /// `annual_wh`.
    pub monthly_wh: Vec<Wh>,
    pub deviation: DeviationClause,
    /// The customer's signature over the contract (base64 Ed25519 from its
    /// member certificate) when accepted; `None`: not yet accepted.
    #[serde(default)]
    pub acceptance: Option<String>,
}

impl Contract {
    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Violations::default();
        if self.monthly_wh.is_empty() || self.monthly_wh.len() > 36 {
            v.push(Violation::new(
                "monthly_wh",
                "term_months",
                self.monthly_wh.len(),
                "a term is 1 to 36 months",
            ));
        }
        for (i, m) in self.monthly_wh.iter().enumerate() {
            if *m < 0 {
                v.push(Violation::new(
                    format!("monthly_wh[{i}]"),
                    "non_negative",
                    *m,
                    "a monthly volume is not negative",
                ));
            }
        }
        let sum: i64 = self.monthly_wh.iter().sum();
        if sum != self.annual_wh {
            v.push(Violation::new(
                "monthly_wh",
                "sums_to_annual",
                sum,
                format!(
                    "the monthly volumes sum to {sum} Wh, not the annual volume of {} Wh",
                    self.annual_wh
                ),
            ));
        }
        if !(0..=10_000).contains(&self.deviation.band.0) {
            v.push(Violation::new(
                "deviation.band",
                "band_0_to_1",
                self.deviation.band.0,
                "the tolerance band is between 0 and 10000 basis points",
            ));
        }
        if let DeviationCharge::FixedPrice { price } = self.deviation.charge
            && price.0 < 0
        {
            v.push(Violation::new(
                "deviation.charge.price",
                "non_negative_price",
                price.to_string(),
                "a deviation charge is not negative",
            ));
        }
        v.into_result()
    }

    /// The contracted volume of `month`, if the month is in the term.
    pub fn volume_of(&self, month: Month) -> Option<Wh> {
        let k = self.start.months_until(month);
        (k >= 0)
            .then(|| self.monthly_wh.get(k as usize).copied())
            .flatten()
    }
}

impl Entity for Contract {
    const TABLE: &'static str = "retail_contracts";
    const NAME: &'static str = "retail contract";
    /// Contracted volumes and the prices they bind.
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.retailer_id)
    }
}

/// Splits an annual volume over months in proportion to `weights` (the
/// customer's own history, or a profile's monthly energy), exactly: each
/// month gets the floor of its share and the leftover Wh go, one each, to
/// the months with the largest remainders (ties: earlier month).
pub fn decompose(annual_wh: Wh, weights: &[i64]) -> Result<Vec<Wh>, Violations> {
    let total: i128 = weights.iter().map(|w| *w as i128).sum();
    if weights.is_empty() || total <= 0 || weights.iter().any(|w| *w < 0) {
        return Err(Violations::one(
            "weights",
            "positive_weights",
            weights.len(),
            "monthly weights are not negative and sum to more than zero",
        ));
    }
    let mut out: Vec<Wh> = Vec::with_capacity(weights.len());
    let mut rem: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let n = annual_wh as i128 * *w as i128;
        out.push((n / total) as i64);
        rem.push((n % total, i));
    }
    let left = annual_wh - out.iter().sum::<i64>();
    rem.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rem.into_iter().take(left as usize) {
        out[i] += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn contract() -> Contract {
        Contract {
            id: "K-C1-2026".into(),
            customer_id: "C1".into(),
            retailer_id: "RET1".into(),
            package_id: "FIX".into(),
            package_version: 1,
            start: Month::parse("2026-01").unwrap(),
            annual_wh: 1_200_000,
            monthly_wh: vec![100_000; 12],
            deviation: DeviationClause {
                band: Bp(1000),
                charge: DeviationCharge::FixedPrice {
                    price: PricePerKwh(500),
                },
            },
            acceptance: None,
        }
    }

    #[test]
    fn rejects_monthly_volumes_that_do_not_sum_to_the_annual_volume() {
        let mut c = contract();
        c.monthly_wh[3] += 1;
        let v = c.validate().unwrap_err();
        assert!(v.has("monthly_wh", "sums_to_annual"));
        assert!(contract().validate().is_ok());
    }

    #[test]
    fn decomposition_is_exact_and_proportional() {
        let m = decompose(1_000_001, &[1, 1, 1]).unwrap();
        assert_eq!(m, vec![333_334, 333_334, 333_333]);
        assert_eq!(m.iter().sum::<i64>(), 1_000_001);
        assert!(decompose(10, &[0, 0]).is_err());
    }

    #[test]
    fn volume_of_a_month_follows_the_term() {
        let c = contract();
        assert_eq!(c.volume_of(Month::parse("2026-07").unwrap()), Some(100_000));
        assert_eq!(c.volume_of(Month::parse("2027-01").unwrap()), None);
        assert_eq!(c.volume_of(Month::parse("2025-12").unwrap()), None);
    }
}
