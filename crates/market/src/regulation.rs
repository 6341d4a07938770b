//! Clearing of the frequency-regulation and peak-regulation markets: a
//! merit-order auction per interval against the operator's requirement.
//!
//! Per interval t, the locked offers (capacity qᵤ MW at price pᵤ; mileage
//! price in yuan/MW for frequency regulation, yuan/MWh for peak regulation)
//! are sorted by price (ties: larger capacity first, then unit id, so the
//! result is deterministic) and accepted until the requirement Rₜ is met;
//! the last accepted offer may be accepted in part. Every accepted unit is
//! paid the uniform clearing price, the price of the marginal (last
//! accepted) offer. If the offers do not reach Rₜ the shortfall is reported
//! and the price is the market's cap. Units whose owner is not active are
//! left out. Energy co-optimisation (a unit's regulation capacity competing
//! with its energy output) is not modelled: the auction runs after the
//! energy market on the units' own declared capacities.
//!
//! The requirement is given with the clearing request
//! (`ClearOptions::requirement_mw`, one value for every interval or one per
//! interval). For frequency regulation it defaults to 3 % of the day's
//! day-ahead cleared load per interval; peak regulation has no default.
use crate::dispatch::{ClearOptions, ClearingRun};
use crate::sessions::position;
use crate::{Actor, Market, MarketError, Result, require_operator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use voltex_model::{DeclarationBody, MarketKind, MarketSession, TradingDay, Violations};
use voltex_store::{Entity, Record, StoredDeclaration};

/// Default frequency-regulation requirement: this share of cleared load.
pub const DEFAULT_FR_SHARE_OF_LOAD: f64 = 0.03;

/// One offer in the merit order of an interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegulationOffer {
    pub unit_id: String,
    pub member_id: String,
    pub capacity_mw: f64,
    pub price: f64,
}

/// The auction's outcome in one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegulationInterval {
    pub interval: usize,
    pub requirement_mw: f64,
    pub awarded_mw: f64,
    pub shortfall_mw: f64,
    pub clearing_price: f64,
    pub awards: Vec<RegulationAward>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegulationAward {
    pub unit_id: String,
    pub member_id: String,
    pub awarded_mw: f64,
    pub offer_price: f64,
}

/// A stored regulation clearing run (versions are re-runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegulationRun {
    pub session_id: String,
    pub market: MarketKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub trading_day: TradingDay,
    pub cleared_at: DateTime<Utc>,
    pub used: Vec<crate::dispatch::UsedDeclaration>,
    pub intervals: Vec<RegulationInterval>,
    pub warnings: Vec<String>,
}

impl Entity for RegulationRun {
    const TABLE: &'static str = "regulation_runs";
    const NAME: &'static str = "regulation run";
    const SENSITIVE: bool = true; // regulation offer prices and awards
    fn entity_id(&self) -> String {
        self.session_id.clone()
    }
}

/// Merit-order clearing of one interval (pure).
pub fn clear_interval(
    interval: usize,
    requirement_mw: f64,
    offers: &[RegulationOffer],
    price_cap: f64,
) -> RegulationInterval {
    let mut order: Vec<&RegulationOffer> = offers.iter().filter(|o| o.capacity_mw > 0.0).collect();
    order.sort_by(|a, b| {
        a.price
            .total_cmp(&b.price)
            .then(b.capacity_mw.total_cmp(&a.capacity_mw))
            .then(a.unit_id.cmp(&b.unit_id))
    });
    let mut left = requirement_mw.max(0.0);
    let mut awards = Vec::new();
    let mut marginal = None;
    for o in order {
        if left <= 1e-9 {
            break;
        }
        let take = o.capacity_mw.min(left);
        left -= take;
        marginal = Some(o.price);
        awards.push(RegulationAward {
            unit_id: o.unit_id.clone(),
            member_id: o.member_id.clone(),
            awarded_mw: take,
            offer_price: o.price,
        });
    }
    let shortfall = if left > 1e-9 { left } else { 0.0 };
    let clearing_price = if shortfall > 0.0 {
        price_cap
    } else {
        marginal.unwrap_or(0.0)
    };
    RegulationInterval {
        interval,
        requirement_mw: requirement_mw.max(0.0),
        awarded_mw: requirement_mw.max(0.0) - shortfall,
        shortfall_mw: shortfall,
        clearing_price,
        awards,
    }
}

fn offers_at(decls: &[StoredDeclaration], t: usize, n: usize) -> Vec<RegulationOffer> {
    decls
        .iter()
        .filter_map(|d| {
            let (unit, cap, price) = match &d.body {
                DeclarationBody::FrequencyRegulationOffer { unit_id, intervals } => {
                    let i = intervals.get(position(t, intervals.len(), n))?;
                    (unit_id, i.capacity_mw, i.mileage_price)
                }
                DeclarationBody::PeakRegulationOffer { unit_id, intervals } => {
                    let i = intervals.get(position(t, intervals.len(), n))?;
                    (unit_id, i.capacity_mw, i.price)
                }
                _ => return None,
            };
            Some(RegulationOffer {
                unit_id: unit.clone(),
                member_id: d.member_id.clone(),
                capacity_mw: cap,
                price,
            })
        })
        .collect()
}

/// A regulation auction in figures: what the API answers for a run and the
/// demo prints, computed in one place.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegulationSummary {
    /// Mean clearing price over the day's intervals.
    pub mean_price: f64,
    pub max_price: f64,
    /// Awarded capacity over the day (mean MW × 24 h).
    pub awarded_mwh: f64,
    /// Intervals the offers did not cover.
    pub shortfall_intervals: usize,
    /// The largest requirement of any interval.
    pub peak_requirement_mw: f64,
}

impl RegulationRun {
    pub fn summary(&self) -> RegulationSummary {
        let i = &self.intervals;
        let n = i.len().max(1) as f64;
        RegulationSummary {
            mean_price: i.iter().map(|x| x.clearing_price).sum::<f64>() / n,
            max_price: i.iter().map(|x| x.clearing_price).fold(0.0, f64::max),
            awarded_mwh: i.iter().map(|x| x.awarded_mw).sum::<f64>() * 24.0 / n,
            shortfall_intervals: i.iter().filter(|x| x.shortfall_mw > 0.0).count(),
            peak_requirement_mw: i.iter().map(|x| x.requirement_mw).fold(0.0, f64::max),
        }
    }
}

impl Market {
    /// The latest regulation run of a session. Operator only, like
    /// [`Market::clearing_run`].
    pub async fn regulation_run(
        &self,
        actor: &Actor,
        session_id: &str,
    ) -> Result<Record<RegulationRun>> {
        require_operator(actor, "read regulation runs")?;
        self.stored_regulation_run(session_id).await
    }

    pub(crate) async fn stored_regulation_run(
        &self,
        session_id: &str,
    ) -> Result<Record<RegulationRun>> {
        self.get_or_404::<RegulationRun>("regulation run", session_id)
            .await
    }

    /// Clears a closed regulation session; called by `clear_session`.
    pub(crate) async fn build_regulation_run(
        &self,
        session: &MarketSession,
        used_declarations: Vec<StoredDeclaration>,
        options: &ClearOptions,
    ) -> Result<RegulationRun> {
        let params = self.parameters(session.market).await?.value;
        let n = params.calendar().interval_count(session.trading_day)?;
        let mut warnings = Vec::new();
        let requirement: Vec<f64> = match &options.requirement_mw {
            Some(r) if r.len() == 1 => vec![r[0]; n],
            Some(r) if r.len() == n => r.clone(),
            Some(r) => {
                return Err(MarketError::Invalid(Violations::one(
                    "requirement_mw",
                    "one_or_per_interval",
                    r.len(),
                    format!("give one requirement or one per interval ({n})"),
                )));
            }
            None if session.market == MarketKind::FrequencyRegulation => {
                let da = MarketSession::id_for(MarketKind::DayAheadEnergy, session.trading_day);
                let run = self.store.get::<ClearingRun>(&da).await?.ok_or_else(|| {
                    MarketError::Conflict(format!(
                        "no requirement given and {da} is not cleared: the default requirement is {:.0} % of its load",
                        DEFAULT_FR_SHARE_OF_LOAD * 100.0
                    ))
                })?;
                warnings.push(format!(
                    "requirement: {:.0} % of the day-ahead cleared load of {da}",
                    DEFAULT_FR_SHARE_OF_LOAD * 100.0
                ));
                (0..n)
                    .map(|t| {
                        let results = &run.value.result.results;
                        let i = &results[position(t, results.len(), n)];
                        let bids: f64 = i.bids.iter().map(|b| b.served_mw).sum();
                        DEFAULT_FR_SHARE_OF_LOAD * (i.fixed_load_mw + bids)
                    })
                    .collect()
            }
            None => {
                return Err(MarketError::Invalid(Violations::one(
                    "requirement_mw",
                    "required",
                    "",
                    "peak regulation needs the operator's requirement (MW per interval)",
                )));
            }
        };
        if let Some(t) = requirement.iter().position(|r| !r.is_finite() || *r < 0.0) {
            return Err(MarketError::Invalid(Violations::one(
                format!("requirement_mw[{t}]"),
                "non_negative",
                requirement[t],
                "a requirement is a non-negative number of MW",
            )));
        }
        let active_units: Vec<String> = self
            .participating_units()
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        let decls: Vec<StoredDeclaration> = used_declarations
            .into_iter()
            .filter(|d| match d.body.unit_id() {
                Some(u) if active_units.iter().any(|a| a == u) => true,
                other => {
                    warnings.push(format!(
                        "{}: unit {} is not an active member's; left out",
                        d.key,
                        other.unwrap_or("?")
                    ));
                    false
                }
            })
            .collect();
        let intervals: Vec<RegulationInterval> = (0..n)
            .map(|t| {
                clear_interval(
                    t + 1,
                    requirement[t],
                    &offers_at(&decls, t, n),
                    params.price_cap,
                )
            })
            .collect();
        let short = intervals.iter().filter(|i| i.shortfall_mw > 0.0).count();
        if short > 0 {
            warnings.push(format!(
                "offers did not cover the requirement in {short} interval(s); priced at the cap"
            ));
        }
        Ok(RegulationRun {
            session_id: session.id.clone(),
            market: session.market,
            trading_day: session.trading_day,
            cleared_at: Utc::now(),
            used: crate::dispatch::used_declarations(&decls),
            intervals,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(unit: &str, cap: f64, price: f64) -> RegulationOffer {
        RegulationOffer {
            unit_id: unit.into(),
            member_id: format!("m-{unit}"),
            capacity_mw: cap,
            price,
        }
    }

    #[test]
    fn cheapest_offers_fill_the_requirement_and_the_marginal_one_sets_the_price() {
        let r = clear_interval(
            1,
            50.0,
            &[o("c", 30.0, 9.0), o("a", 20.0, 5.0), o("b", 40.0, 7.0)],
            15.0,
        );
        let got: Vec<(&str, f64)> = r
            .awards
            .iter()
            .map(|a| (a.unit_id.as_str(), a.awarded_mw))
            .collect();
        assert_eq!(got, vec![("a", 20.0), ("b", 30.0)]);
        assert_eq!(r.clearing_price, 7.0);
        assert_eq!(r.shortfall_mw, 0.0);
    }

    #[test]
    fn the_summary_gives_mean_and_max_price_daily_award_shortfalls_and_peak_requirement() {
        let run = RegulationRun {
            session_id: "FR-2026-11-22".into(),
            market: MarketKind::FrequencyRegulation,
            trading_day: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            cleared_at: Utc::now(),
            used: vec![],
            intervals: vec![
                clear_interval(1, 30.0, &[o("a", 20.0, 5.0), o("b", 40.0, 7.0)], 15.0),
                clear_interval(2, 100.0, &[o("a", 20.0, 5.0)], 15.0),
            ],
            warnings: vec![],
        };
        let s = run.summary();
        assert_eq!(s.mean_price, (7.0 + 15.0) / 2.0);
        assert_eq!(s.max_price, 15.0);
        assert_eq!(s.awarded_mwh, (30.0 + 20.0) * 24.0 / 2.0);
        assert_eq!(s.shortfall_intervals, 1);
        assert_eq!(s.peak_requirement_mw, 100.0);
    }

    #[test]
    fn short_supply_is_reported_and_priced_at_the_cap() {
        let r = clear_interval(3, 100.0, &[o("a", 20.0, 5.0)], 15.0);
        assert_eq!(r.shortfall_mw, 80.0);
        assert_eq!(r.awarded_mw, 20.0);
        assert_eq!(r.clearing_price, 15.0);
    }

    #[test]
    fn ties_are_broken_by_capacity_then_unit_id() {
        let r = clear_interval(
            1,
            10.0,
            &[o("b", 10.0, 5.0), o("a", 10.0, 5.0), o("c", 20.0, 5.0)],
            15.0,
        );
        assert_eq!(r.awards.len(), 1);
        assert_eq!(r.awards[0].unit_id, "c");
        let r = clear_interval(1, 10.0, &[o("b", 10.0, 5.0), o("a", 10.0, 5.0)], 15.0);
        assert_eq!(r.awards[0].unit_id, "a");
    }

    #[test]
    fn zero_requirement_awards_nothing_at_price_zero() {
        let r = clear_interval(1, 0.0, &[o("a", 10.0, 5.0)], 15.0);
        assert!(r.awards.is_empty());
        assert_eq!(r.clearing_price, 0.0);
    }
}
