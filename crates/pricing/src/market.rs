//! Competition among sellers for consumers, and the certified equilibrium
//! loop.
//!
//! Each consumer computes its optimal lower-level cost with every seller and
//! chooses by the market's [`ChoiceModel`]: logit probabilities with a
//! switching cost and brand premiums (the default; shares are expected
//! values), or the hard switching threshold. Sellers best-respond
//! simultaneously (Jacobi) with the GA, warm-started from their previous
//! population, and a pattern-search polish of the GA's best. Each round first
//! measures every seller's regret at the prices in force — the best penalised
//! fitness the search finds against the others' prices minus the fitness of
//! its own — and the loop stops, certified, only when every regret is below
//! the tolerance share of that seller's objective.
//!
//! This module holds the market state and the rules of choice; it does not
//! read files or draw plots.

use rayon::prelude::*;

use crate::choice::{self, ChoiceModel, LogitChoice};
use crate::consumer::Consumer;
use crate::ga::{self, GaResult, GaSettings, PolishSettings};
use crate::lower::{self, LowerLevelSettings};
use crate::shapes::{Route, ShapeGroups, UnitAnswer};
use crate::tou::{Period, TouPrices, TouSchedule};
use crate::upper::{self, PriceScenarios, SellerBook, SellerOutcome, SellerRules};
use crate::{HOURS, PricingError};

/// Consumers per parallel work item (fixed so sums are reproducible).
const CHUNK: usize = 256;

/// Penalty per kWh bought and per yuan/kWh of average-price excess (yuan).
pub const AVERAGE_PRICE_PENALTY: f64 = 20.0;

/// Settings of the market.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MarketSettings {
    pub lower: LowerLevelSettings,
    pub rules: SellerRules,
    /// How consumers choose their seller.
    pub choice: ChoiceModel,
}

/// How far a seller moves towards its best response in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PriceStep {
    /// All the way (plain simultaneous best response).
    #[default]
    Full,
    /// A 1/r share of the way in round r, i.e. each seller's price is the
    /// running average of its best responses (a fictitious-play style
    /// damping: round 1 is a full best response, later moves shrink).
    Harmonic,
}

/// Settings of the sellers' best-response loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompetitionSettings {
    /// The GA of the first round; later rounds warm-start it and use fewer
    /// generations as the seller's regret falls (see [`generations_for`]).
    pub ga: GaSettings,
    pub polish: PolishSettings,
    /// Round limit; the last round only certifies (no price moves after it).
    pub max_rounds: usize,
    /// Certified when every seller's regret is below this share of its
    /// objective (0.005 = 0.5 %).
    pub regret_tolerance: f64,
    pub seed: u64,
    pub step: PriceStep,
}

impl Default for CompetitionSettings {
    fn default() -> Self {
        Self {
            ga: GaSettings {
                population: 12,
                generations: 12,
                stall_generations: 4,
                ..GaSettings::default()
            },
            polish: PolishSettings::default(),
            max_rounds: 12,
            regret_tolerance: 0.005,
            seed: 1,
            step: PriceStep::Full,
        }
    }
}

/// GA generations for a seller whose regret in the previous round was
/// `previous_regret_pct` (% of its objective): the full budget while far from
/// equilibrium, a quarter of it (at least 3) once within 1 %, half within 5 %.
pub fn generations_for(full: usize, previous_regret_pct: Option<f64>) -> usize {
    match previous_regret_pct {
        None => full,
        Some(r) if r < 1.0 => (full / 4).max(3).min(full),
        Some(r) if r < 5.0 => (full / 2).max(3).min(full),
        Some(_) => full,
    }
}

/// The market state: consumers, sellers' prices and who buys from whom.
#[derive(Debug, Clone)]
pub struct Market {
    consumers: Vec<Consumer>,
    schedule: TouSchedule,
    scenarios: PriceScenarios,
    settings: MarketSettings,
    prices: Vec<TouPrices>,
    /// Threshold model: each consumer's current seller. Logit model: its
    /// incumbent (the contract it holds when pricing starts; fixed).
    assignment: Vec<usize>,
    /// costs[i * K + k]: consumer i's optimal lower-level cost with seller k (yuan).
    costs: Vec<f64>,
    groups: ShapeGroups,
    /// Base load per period [peak, flat, valley] (kWh).
    base_by_period: Vec<[f64; 3]>,
}

/// Totals of the market as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSnapshot {
    pub prices: Vec<TouPrices>,
    pub outcomes: Vec<SellerOutcome>,
    /// ½·Σ_i Σ_t |x_t − c_t| (kWh): energy moved in time.
    pub transferred_kwh: f64,
    /// Σ_i Σ_{t ∈ peak} (c_t − x_t) (kWh): energy moved out of peak hours.
    pub moved_out_of_peak_kwh: f64,
    /// Σ_i Σ_{t ∈ valley} (x_t − c_t) (kWh): energy moved into valley hours.
    pub moved_into_valley_kwh: f64,
    pub mean_satisfaction: f64,
    /// Smallest (expected) satisfaction of a consumer.
    pub min_satisfaction: f64,
    /// Share of consumers whose 15 % limit binds in some hour (expected).
    pub share_limit_binding: f64,
}

/// One seller's best response and its regret at the prices it held.
#[derive(Debug, Clone)]
pub struct BestResponse {
    pub seller: usize,
    /// The prices it held (the point the regret is measured at).
    pub previous: TouPrices,
    /// The best prices the GA and the polish found (feasible, repaired).
    pub best: TouPrices,
    /// What the loop posts next (the best, or a damped step towards it).
    pub chosen: TouPrices,
    /// Penalised fitness of `previous` and of `best` (yuan/day).
    pub current_fitness: f64,
    pub best_fitness: f64,
    /// max(0, best_fitness − current_fitness) (yuan/day).
    pub regret: f64,
    /// regret as a percentage of the objective at `previous` (∞ when that
    /// objective is ≤ 0 and the regret is positive).
    pub regret_pct: f64,
    pub ga: GaResult,
    pub polish_evaluations: usize,
    /// The seller's outcome at `previous` (others fixed).
    pub current_outcome: SellerOutcome,
    /// The seller's outcome at `chosen` (others fixed).
    pub outcome: SellerOutcome,
}

/// One round of best responses.
#[derive(Debug, Clone)]
pub struct RoundRecord {
    pub round: usize,
    pub responses: Vec<BestResponse>,
    /// The market after the round's moves (before them when the round certified).
    pub snapshot: MarketSnapshot,
    /// (Expected) customers per seller after the round.
    pub customers: Vec<f64>,
    pub max_price_move: f64,
    /// Largest seller regret at the round's starting prices (yuan/day).
    pub max_regret: f64,
    /// Largest regret as % of that seller's objective.
    pub max_regret_pct: f64,
    /// Every regret below the tolerance: the round's starting prices are certified.
    pub certified: bool,
}

/// The equilibrium certificate of the final prices.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// Per seller: regret (yuan/day), regret in % of objective, objective (yuan/day).
    pub regret: Vec<f64>,
    pub regret_pct: Vec<f64>,
    pub objective: Vec<f64>,
    /// The tolerance in % (0.5).
    pub tolerance_pct: f64,
}

impl Certificate {
    pub fn max_regret_pct(&self) -> f64 {
        self.regret_pct
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }
    /// Every regret strictly below the tolerance.
    pub fn holds(&self) -> bool {
        !self.regret_pct.is_empty() && self.regret_pct.iter().all(|&r| r < self.tolerance_pct)
    }
}

/// The outcome of the best-response loop.
#[derive(Debug, Clone)]
pub struct EquilibriumReport {
    pub rounds: Vec<RoundRecord>,
    /// Exactly `certificate.holds()`.
    pub converged: bool,
    /// Regrets at the market's final prices.
    pub certificate: Certificate,
}

/// Seller k's view of the market with the others' prices fixed: evaluates
/// candidate prices. Built once per best response (the rivals' logit terms
/// are computed once).
pub struct SellerView<'a> {
    market: &'a Market,
    seller: usize,
    /// Logit: log Σ_{j≠k} exp(V_ij) per consumer; empty for the threshold model.
    rivals: Vec<f64>,
}

impl SellerView<'_> {
    /// What the seller would sell (and to how many) at `candidate`.
    pub fn book(&self, candidate: &TouPrices) -> Result<SellerBook, PricingError> {
        match self.market.settings.choice {
            ChoiceModel::Logit(logit) => self.logit_book(&logit, candidate),
            ChoiceModel::Threshold {
                switching_threshold,
            } => self
                .market
                .threshold_book(self.seller, candidate, switching_threshold),
        }
    }

    fn logit_book(
        &self,
        logit: &LogitChoice,
        candidate: &TouPrices,
    ) -> Result<SellerBook, PricingError> {
        let m = self.market;
        let k = self.seller;
        let n_sellers = m.sellers();
        let hourly = candidate.hourly(&m.schedule);
        let units = m.groups.solve(&hourly, &m.settings.lower);
        let partials: Vec<SellerBook> = m
            .consumers
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(chunk, consumers)| {
                let mut book = SellerBook::default();
                for (offset, consumer) in consumers.iter().enumerate() {
                    let i = chunk * CHUNK + offset;
                    let utility = |cost: f64| {
                        logit.utility(
                            cost,
                            consumer.daily_consumption_kwh(),
                            k,
                            n_sellers,
                            m.assignment[i],
                        )
                    };
                    if let Route::Shape(g) = m.groups.route(i) {
                        // The hot path: the shape's unit answer, scaled, no allocation.
                        let u = &units[g as usize];
                        let total = consumer.controllable_total_kwh();
                        let cost = m.base_cost(i, candidate) + total * u.cost_per_kwh;
                        let share = choice::share_against(utility(cost), self.rivals[i]);
                        let scaled = share * total;
                        for t in 0..HOURS {
                            book.purchases_kwh[t] +=
                                share * consumer.base_kwh[t] + scaled * u.shifted[t];
                        }
                        book.customers += share;
                    } else {
                        let answer = m.answer_of(i, consumer, candidate, &hourly, &units)?;
                        let share = choice::share_against(utility(answer.cost), self.rivals[i]);
                        answer.add_to(&mut book, share);
                    }
                }
                Ok(book)
            })
            .collect::<Result<_, PricingError>>()?;
        let mut total = SellerBook::default();
        for b in &partials {
            total.add(b);
        }
        Ok(total)
    }

    pub fn outcome(&self, candidate: &TouPrices) -> Result<SellerOutcome, PricingError> {
        let m = self.market;
        Ok(upper::evaluate_book(
            candidate,
            &m.schedule,
            self.book(candidate)?,
            &m.scenarios,
            &m.settings.rules,
            m.settings.lower.feed_in_per_kwh,
        ))
    }

    /// Make `candidate` meet the average-price cap by pulling all three prices
    /// towards the floor: p(α) = floor + α·(p − floor), largest feasible α by
    /// bisection (α = 0 is always feasible because p_avg ≥ floor).
    pub fn repair_average_price(&self, candidate: TouPrices) -> Result<TouPrices, PricingError> {
        let rules = self.market.settings.rules;
        let excess = |p: &TouPrices| -> Result<f64, PricingError> {
            Ok(self.outcome(p)?.average_price_excess(&rules))
        };
        if excess(&candidate)? <= 0.0 {
            return Ok(candidate);
        }
        let floor = rules.price_floor_per_kwh;
        let at = |a: f64| {
            TouPrices::new(
                floor + a * (candidate.peak_per_kwh - floor),
                floor + a * (candidate.flat_per_kwh - floor),
                floor + a * (candidate.valley_per_kwh - floor),
            )
        };
        let (mut feasible, mut infeasible) = (0.0, 1.0);
        for _ in 0..30 {
            let mid = 0.5 * (feasible + infeasible);
            if excess(&at(mid))? <= 0.0 {
                feasible = mid;
            } else {
                infeasible = mid;
            }
        }
        Ok(at(feasible))
    }

    /// Seller k's best response to the others (does not apply it): the GA
    /// (seeded with `warm`, e.g. the current prices and the previous
    /// population), then a pattern-search polish of its best; the regret is
    /// measured at the prices the seller holds.
    pub fn best_response(
        &self,
        ga_settings: &GaSettings,
        polish: &PolishSettings,
        warm: &[TouPrices],
        seed: u64,
    ) -> Result<BestResponse, PricingError> {
        let m = self.market;
        let k = self.seller;
        let previous = m.prices[k];
        let current_outcome = self.outcome(&previous)?;
        let current_fitness = m.penalised_fitness(&current_outcome);
        let mut failure: Option<PricingError> = None;
        let mut fitness = |p: &TouPrices| match self.outcome(p) {
            Ok(o) => m.penalised_fitness(&o),
            Err(e) => {
                failure.get_or_insert(e);
                f64::NEG_INFINITY
            }
        };
        let mut seeds = vec![previous];
        seeds.extend_from_slice(warm);
        let result = ga::maximise(&mut fitness, &m.settings.rules, ga_settings, &seeds, seed)?;
        let (start, start_fitness) = if result.best_fitness >= current_fitness {
            (result.best, result.best_fitness)
        } else {
            (previous, current_fitness)
        };
        let polished = ga::pattern_search(
            &mut fitness,
            &m.settings.rules,
            start,
            start_fitness,
            polish,
        );
        if let Some(e) = failure {
            return Err(e);
        }
        let rules = m.settings.rules;
        let boxed = rules.repair_box([
            polished.best.valley_per_kwh,
            polished.best.flat_per_kwh,
            polished.best.peak_per_kwh,
        ]);
        let best = self.repair_average_price(boxed)?;
        let best_outcome = if best == previous {
            current_outcome.clone()
        } else {
            self.outcome(&best)?
        };
        let best_fitness = m.penalised_fitness(&best_outcome);
        let regret = (best_fitness - current_fitness).max(0.0);
        let objective = current_outcome.objective;
        let regret_pct = if regret <= 0.0 {
            0.0
        } else if objective > 0.0 {
            100.0 * regret / objective
        } else {
            f64::INFINITY
        };
        // Keep the current prices unless the search found something strictly better.
        let better = best_fitness > current_fitness + 1e-9 * current_fitness.abs().max(1.0);
        let (chosen, outcome) = if better {
            (best, best_outcome)
        } else {
            (previous, current_outcome.clone())
        };
        Ok(BestResponse {
            seller: k,
            previous,
            best,
            chosen,
            current_fitness,
            best_fitness,
            regret,
            regret_pct,
            ga: result,
            polish_evaluations: polished.evaluations,
            current_outcome,
            outcome,
        })
    }
}

/// A consumer's answer to one seller's prices (cost, purchases, shift).
struct Answer {
    cost: f64,
    purchases: [f64; HOURS],
    sales: [f64; HOURS],
    shifted: [f64; HOURS],
    satisfaction: f64,
}

impl Answer {
    fn add_to(&self, book: &mut SellerBook, weight: f64) {
        book.add_weighted(&self.purchases, &self.sales, weight);
    }
}

impl Market {
    /// A market with the given consumers, scenarios and initial seller prices;
    /// consumers are assigned round-robin to sellers (their incumbents) before
    /// anyone chooses.
    pub fn new(
        consumers: Vec<Consumer>,
        schedule: TouSchedule,
        scenarios: PriceScenarios,
        settings: MarketSettings,
        initial_prices: Vec<TouPrices>,
    ) -> Result<Self, PricingError> {
        settings.lower.validate()?;
        settings.rules.validate()?;
        settings.choice.validate()?;
        if scenarios.is_empty() {
            return Err(PricingError::NoScenarios);
        }
        if initial_prices.is_empty() {
            return Err(PricingError::BadMarket(
                "at least one seller is needed".into(),
            ));
        }
        for c in &consumers {
            c.validate()?;
        }
        for (k, p) in initial_prices.iter().enumerate() {
            for (field, v) in [
                ("peak", p.peak_per_kwh),
                ("flat", p.flat_per_kwh),
                ("valley", p.valley_per_kwh),
            ] {
                if !v.is_finite() {
                    return Err(PricingError::BadMarket(format!(
                        "seller {k}: {field} price {v} is not finite"
                    )));
                }
            }
        }
        let k = initial_prices.len();
        let assignment = (0..consumers.len()).map(|i| i % k).collect();
        let mut market = Self {
            costs: vec![0.0; consumers.len() * k],
            groups: ShapeGroups::new(&consumers),
            base_by_period: Self::base_by_period(&consumers, &schedule),
            consumers,
            schedule,
            scenarios,
            settings,
            prices: initial_prices,
            assignment,
        };
        for s in 0..k {
            market.recompute_costs(s)?;
        }
        market.reassign();
        Ok(market)
    }

    fn base_by_period(consumers: &[Consumer], schedule: &TouSchedule) -> Vec<[f64; 3]> {
        consumers
            .iter()
            .map(|c| {
                let mut b = [0.0; 3];
                for t in 0..HOURS {
                    let slot = match schedule.period_of_hour[t] {
                        Period::Peak => 0,
                        Period::Flat => 1,
                        Period::Valley => 2,
                    };
                    b[slot] += c.base_kwh[t];
                }
                b
            })
            .collect()
    }

    pub fn consumers(&self) -> &[Consumer] {
        &self.consumers
    }
    pub fn prices(&self) -> &[TouPrices] {
        &self.prices
    }
    /// Threshold model: current sellers; logit model: incumbents.
    pub fn assignment(&self) -> &[usize] {
        &self.assignment
    }
    pub fn settings(&self) -> &MarketSettings {
        &self.settings
    }
    pub fn schedule(&self) -> &TouSchedule {
        &self.schedule
    }
    pub fn scenarios(&self) -> &PriceScenarios {
        &self.scenarios
    }
    pub fn sellers(&self) -> usize {
        self.prices.len()
    }
    /// Distinct lower-level problems among the device-free consumers.
    pub fn shape_groups(&self) -> usize {
        self.groups.len()
    }
    /// Consumer i's optimal cost with seller k.
    pub fn cost(&self, consumer: usize, seller: usize) -> f64 {
        self.costs[consumer * self.sellers() + seller]
    }

    /// Consumer i's probabilities of buying from each seller at the current
    /// prices (0/1 under the threshold model).
    pub fn shares(&self, consumer: usize) -> Vec<f64> {
        let n = self.sellers();
        let mut shares = vec![0.0; n];
        self.shares_into(consumer, &mut shares);
        shares
    }

    fn shares_into(&self, i: usize, shares: &mut [f64]) {
        let n = self.sellers();
        match self.settings.choice {
            ChoiceModel::Logit(logit) => {
                let e = self.consumers[i].daily_consumption_kwh();
                let v: Vec<f64> = (0..n)
                    .map(|s| logit.utility(self.cost(i, s), e, s, n, self.assignment[i]))
                    .collect();
                choice::logit_shares(&v, shares);
            }
            ChoiceModel::Threshold { .. } => {
                shares.iter_mut().for_each(|s| *s = 0.0);
                shares[self.assignment[i]] = 1.0;
            }
        }
    }

    /// (Expected) customers per seller.
    pub fn customers(&self) -> Vec<f64> {
        let n = self.sellers();
        let partials: Vec<Vec<f64>> = (0..self.consumers.len())
            .collect::<Vec<_>>()
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut total = vec![0.0; n];
                let mut shares = vec![0.0; n];
                for &i in chunk {
                    self.shares_into(i, &mut shares);
                    for s in 0..n {
                        total[s] += shares[s];
                    }
                }
                total
            })
            .collect();
        let mut total = vec![0.0; n];
        for p in &partials {
            for s in 0..n {
                total[s] += p[s];
            }
        }
        total
    }

    /// Replace the scenarios (e.g. one realised day) keeping everything else.
    pub fn set_scenarios(&mut self, scenarios: PriceScenarios) -> Result<(), PricingError> {
        if scenarios.is_empty() {
            return Err(PricingError::NoScenarios);
        }
        self.scenarios = scenarios;
        Ok(())
    }

    /// Replace the consumers (same count) keeping assignment and prices.
    pub fn replace_consumers(&mut self, consumers: Vec<Consumer>) -> Result<(), PricingError> {
        if consumers.len() != self.consumers.len() {
            return Err(PricingError::BadMarket(format!(
                "replacement has {} consumers, the market has {}",
                consumers.len(),
                self.consumers.len()
            )));
        }
        for c in &consumers {
            c.validate()?;
        }
        self.groups = ShapeGroups::new(&consumers);
        self.base_by_period = Self::base_by_period(&consumers, &self.schedule);
        self.consumers = consumers;
        for s in 0..self.sellers() {
            self.recompute_costs(s)?;
        }
        Ok(())
    }

    /// Cost of consumer i's base load at prices p (yuan).
    #[inline]
    fn base_cost(&self, i: usize, p: &TouPrices) -> f64 {
        let b = &self.base_by_period[i];
        p.peak_per_kwh * b[0] + p.flat_per_kwh * b[1] + p.valley_per_kwh * b[2]
    }

    /// Consumer i's answer to prices `p` (hourly `hourly`), given the shape
    /// groups' unit answers to the same prices.
    fn answer_of(
        &self,
        i: usize,
        consumer: &Consumer,
        p: &TouPrices,
        hourly: &[f64; HOURS],
        units: &[UnitAnswer],
    ) -> Result<Answer, PricingError> {
        let base_cost = self.base_cost(i, p);
        match self.groups.route(i) {
            Route::Shape(g) => {
                let u = &units[g as usize];
                let total = consumer.controllable_total_kwh();
                let mut shifted = [0.0; HOURS];
                let mut purchases = [0.0; HOURS];
                for t in 0..HOURS {
                    shifted[t] = total * u.shifted[t];
                    purchases[t] = consumer.base_kwh[t] + shifted[t];
                }
                Ok(Answer {
                    cost: base_cost + total * u.cost_per_kwh,
                    purchases,
                    sales: [0.0; HOURS],
                    shifted,
                    satisfaction: lower::satisfaction(&shifted, &consumer.controllable_kwh),
                })
            }
            Route::NoControllable => Ok(Answer {
                cost: base_cost,
                purchases: consumer.base_kwh,
                sales: [0.0; HOURS],
                shifted: consumer.controllable_kwh,
                satisfaction: 1.0,
            }),
            Route::Devices => {
                let r = lower::respond(consumer, hourly, &self.settings.lower)?;
                Ok(Answer {
                    cost: r.total_cost(),
                    purchases: r.purchases_kwh,
                    sales: r.sales_kwh,
                    shifted: r.shifted_kwh,
                    satisfaction: r.satisfaction,
                })
            }
        }
    }

    fn recompute_costs(&mut self, seller: usize) -> Result<(), PricingError> {
        let p = self.prices[seller];
        let hourly = p.hourly(&self.schedule);
        let units = self.groups.solve(&hourly, &self.settings.lower);
        let k = self.sellers();
        let column: Vec<f64> = self
            .consumers
            .par_iter()
            .enumerate()
            .map(|(i, c)| Ok(self.answer_of(i, c, &p, &hourly, &units)?.cost))
            .collect::<Result<_, PricingError>>()?;
        for (i, v) in column.into_iter().enumerate() {
            self.costs[i * k + seller] = v;
        }
        Ok(())
    }

    /// The threshold rule: stay with `current` unless the cheapest seller
    /// saves more than the threshold. Ties go to the lower index.
    fn choose(&self, current: usize, threshold: f64, cost_of: impl Fn(usize) -> f64) -> usize {
        let mut best = current;
        let mut best_cost = cost_of(current);
        for s in 0..self.sellers() {
            let c = cost_of(s);
            if c < best_cost {
                best = s;
                best_cost = c;
            }
        }
        let current_cost = cost_of(current);
        if best != current && best_cost < current_cost - threshold * current_cost.abs() {
            best
        } else {
            current
        }
    }

    /// Threshold model: what seller k sells if it posts `candidate` while the
    /// others keep their prices and consumers apply the switching rule.
    fn threshold_book(
        &self,
        k: usize,
        candidate: &TouPrices,
        threshold: f64,
    ) -> Result<SellerBook, PricingError> {
        let hourly = candidate.hourly(&self.schedule);
        let units = self.groups.solve(&hourly, &self.settings.lower);
        let p_min = hourly.iter().copied().fold(f64::INFINITY, f64::min);
        let n_sellers = self.sellers();
        let partials: Vec<SellerBook> = self
            .consumers
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(chunk, consumers)| {
                let mut book = SellerBook::default();
                for (offset, consumer) in consumers.iter().enumerate() {
                    let i = chunk * CHUNK + offset;
                    let current = self.assignment[i];
                    let row = &self.costs[i * n_sellers..(i + 1) * n_sellers];
                    if current != k && consumer.is_device_free() {
                        // Lower bound on the cost with k: base at its prices, controllable all at the cheapest price.
                        let bound: f64 = (0..HOURS)
                            .map(|t| hourly[t] * consumer.base_kwh[t])
                            .sum::<f64>()
                            + p_min * consumer.controllable_total_kwh();
                        if bound >= row[current] - threshold * row[current].abs() {
                            continue;
                        }
                    }
                    let answer = self.answer_of(i, consumer, candidate, &hourly, &units)?;
                    let chosen = self.choose(current, threshold, |s| {
                        if s == k { answer.cost } else { row[s] }
                    });
                    if chosen == k {
                        answer.add_to(&mut book, 1.0);
                    }
                }
                Ok(book)
            })
            .collect::<Result<_, PricingError>>()?;
        let mut total = SellerBook::default();
        for b in &partials {
            total.add(b);
        }
        Ok(total)
    }

    /// Seller k's view with the others' prices as they stand.
    pub fn view(&self, k: usize) -> Result<SellerView<'_>, PricingError> {
        let n = self.sellers();
        if k >= n {
            return Err(PricingError::BadMarket(format!(
                "seller {k} does not exist ({n} sellers)"
            )));
        }
        let rivals = match self.settings.choice {
            ChoiceModel::Logit(logit) => self
                .consumers
                .par_iter()
                .enumerate()
                .map(|(i, c)| {
                    let e = c.daily_consumption_kwh();
                    let incumbent = self.assignment[i];
                    choice::log_sum_exp(
                        (0..n)
                            .filter(|&s| s != k)
                            .map(|s| logit.utility(self.cost(i, s), e, s, n, incumbent)),
                    )
                })
                .collect(),
            ChoiceModel::Threshold { .. } => Vec::new(),
        };
        Ok(SellerView {
            market: self,
            seller: k,
            rivals,
        })
    }

    /// What seller `k` would sell (and to how many) if it posted `candidate`
    /// while the others keep their prices.
    pub fn book_for_candidate(
        &self,
        k: usize,
        candidate: &TouPrices,
    ) -> Result<SellerBook, PricingError> {
        self.view(k)?.book(candidate)
    }

    /// Evaluate seller k's candidate prices.
    pub fn evaluate_candidate(
        &self,
        k: usize,
        candidate: &TouPrices,
    ) -> Result<SellerOutcome, PricingError> {
        self.view(k)?.outcome(candidate)
    }

    /// The GA's fitness: objective minus the average-price penalty.
    pub fn penalised_fitness(&self, outcome: &SellerOutcome) -> f64 {
        outcome.objective
            - AVERAGE_PRICE_PENALTY
                * outcome.average_price_excess(&self.settings.rules)
                * outcome.book.total_purchases_kwh()
    }

    /// Make seller k's `candidate` meet the average-price cap (see
    /// [`SellerView::repair_average_price`]).
    pub fn repair_average_price(
        &self,
        k: usize,
        candidate: TouPrices,
    ) -> Result<TouPrices, PricingError> {
        self.view(k)?.repair_average_price(candidate)
    }

    /// Seller k's best response to the others (does not apply it), with the
    /// default polish and no warm start.
    pub fn best_response(
        &self,
        k: usize,
        ga: &GaSettings,
        seed: u64,
    ) -> Result<BestResponse, PricingError> {
        self.view(k)?
            .best_response(ga, &PolishSettings::default(), &[], seed)
    }

    /// Post new prices for seller k and let every consumer re-choose.
    pub fn apply_prices(&mut self, k: usize, prices: TouPrices) -> Result<(), PricingError> {
        self.prices[k] = prices;
        self.recompute_costs(k)?;
        self.reassign();
        Ok(())
    }

    /// Post new prices for every seller at once, then consumers re-choose.
    pub fn apply_all_prices(&mut self, prices: &[TouPrices]) -> Result<(), PricingError> {
        for (k, p) in prices.iter().enumerate().take(self.sellers()) {
            self.prices[k] = *p;
            self.recompute_costs(k)?;
        }
        self.reassign();
        Ok(())
    }

    /// Threshold model: every consumer applies the switching rule to the
    /// current costs. Logit model: nothing (incumbents are fixed; shares
    /// follow from the costs).
    pub fn reassign(&mut self) {
        let ChoiceModel::Threshold {
            switching_threshold,
        } = self.settings.choice
        else {
            return;
        };
        let n = self.sellers();
        let chosen: Vec<usize> = (0..self.consumers.len())
            .map(|i| {
                let row = &self.costs[i * n..(i + 1) * n];
                self.choose(self.assignment[i], switching_threshold, |s| row[s])
            })
            .collect();
        self.assignment = chosen;
    }

    /// Every seller's best response against the prices as they stand, in
    /// parallel over sellers (the certificate of the current prices).
    pub fn best_responses(
        &self,
        ga_for: &(dyn Fn(usize) -> GaSettings + Sync),
        polish: &PolishSettings,
        warm: &[Vec<TouPrices>],
        seed_for: &(dyn Fn(usize) -> u64 + Sync),
    ) -> Result<Vec<BestResponse>, PricingError> {
        (0..self.sellers())
            .into_par_iter()
            .map(|k| {
                let warm_k = warm.get(k).map(Vec::as_slice).unwrap_or(&[]);
                self.view(k)?
                    .best_response(&ga_for(k), polish, warm_k, seed_for(k))
            })
            .collect()
    }

    /// Simultaneous best responses until every seller's regret is below the
    /// tolerance (certified) or the round limit. Round r measures all regrets
    /// at the prices in force; if they certify, the loop stops without
    /// moving; otherwise every seller moves to (or towards) its best response.
    /// The last round only certifies, so the reported regrets always belong
    /// to the market's final prices.
    pub fn run_to_equilibrium(
        &mut self,
        settings: &CompetitionSettings,
        on_round: &mut dyn FnMut(&RoundRecord),
    ) -> Result<EquilibriumReport, PricingError> {
        if settings.max_rounds == 0 {
            return Err(PricingError::BadMarket("max_rounds must be ≥ 1".into()));
        }
        if !(settings.regret_tolerance.is_finite() && settings.regret_tolerance > 0.0) {
            return Err(PricingError::BadMarket(format!(
                "regret_tolerance = {} must be finite and > 0",
                settings.regret_tolerance
            )));
        }
        let tolerance_pct = 100.0 * settings.regret_tolerance;
        let k = self.sellers();
        let mut rounds: Vec<RoundRecord> = Vec::new();
        let mut warm: Vec<Vec<TouPrices>> = vec![Vec::new(); k];
        let mut last_pct: Vec<Option<f64>> = vec![None; k];
        let mut converged = false;
        for round in 1..=settings.max_rounds {
            let ga_for = |s: usize| GaSettings {
                generations: generations_for(settings.ga.generations, last_pct[s]),
                ..settings.ga
            };
            let seed_for = |s: usize| {
                settings
                    .seed
                    .wrapping_mul(1_000_003)
                    .wrapping_add((round * 1000 + s) as u64)
            };
            let mut responses = self.best_responses(&ga_for, &settings.polish, &warm, &seed_for)?;
            let max_regret = responses
                .iter()
                .map(|r| r.regret)
                .fold(f64::NEG_INFINITY, f64::max);
            let max_regret_pct = responses
                .iter()
                .map(|r| r.regret_pct)
                .fold(f64::NEG_INFINITY, f64::max);
            let certified = responses.iter().all(|r| r.regret_pct < tolerance_pct);
            let last = round == settings.max_rounds;
            let mut max_move = 0.0_f64;
            if !certified && !last {
                let mut next = Vec::with_capacity(k);
                for r in responses.iter_mut() {
                    if settings.step == PriceStep::Harmonic && round > 1 {
                        let w = 1.0 / round as f64;
                        let (p, c) = (r.previous, r.chosen);
                        let blended = self.settings.rules.repair_box([
                            p.valley_per_kwh + w * (c.valley_per_kwh - p.valley_per_kwh),
                            p.flat_per_kwh + w * (c.flat_per_kwh - p.flat_per_kwh),
                            p.peak_per_kwh + w * (c.peak_per_kwh - p.peak_per_kwh),
                        ]);
                        let view = self.view(r.seller)?;
                        r.chosen = view.repair_average_price(blended)?;
                        r.outcome = view.outcome(&r.chosen)?;
                    }
                    max_move = max_move.max(r.chosen.max_abs_difference(&r.previous));
                    next.push(r.chosen);
                }
                self.apply_all_prices(&next)?;
            } else {
                for r in responses.iter_mut() {
                    r.chosen = r.previous;
                    r.outcome = r.current_outcome.clone();
                }
            }
            for r in &responses {
                last_pct[r.seller] = Some(r.regret_pct);
                // Warm start: the best found first, then the last generation.
                let mut w = vec![r.best];
                w.extend_from_slice(&r.ga.population);
                warm[r.seller] = w;
            }
            let record = RoundRecord {
                round,
                snapshot: self.snapshot()?,
                customers: self.customers(),
                max_price_move: max_move,
                max_regret,
                max_regret_pct,
                certified,
                responses,
            };
            on_round(&record);
            rounds.push(record);
            if certified {
                converged = true;
                break;
            }
        }
        let last = rounds
            .last()
            .ok_or_else(|| PricingError::BadMarket("the loop ran no round".into()))?;
        let certificate = Certificate {
            regret: last.responses.iter().map(|r| r.regret).collect(),
            regret_pct: last.responses.iter().map(|r| r.regret_pct).collect(),
            objective: last
                .responses
                .iter()
                .map(|r| r.current_outcome.objective)
                .collect(),
            tolerance_pct,
        };
        debug_assert_eq!(converged, certificate.holds());
        Ok(EquilibriumReport {
            rounds,
            converged,
            certificate,
        })
    }

    /// The certificate of arbitrary prices: post them, then measure every
    /// seller's regret (GA + polish) without moving.
    pub fn certify(
        &mut self,
        prices: &[TouPrices],
        settings: &CompetitionSettings,
    ) -> Result<Certificate, PricingError> {
        if prices.len() != self.sellers() {
            return Err(PricingError::BadMarket(format!(
                "{} price vectors for {} sellers",
                prices.len(),
                self.sellers()
            )));
        }
        self.apply_all_prices(prices)?;
        let responses = self.best_responses(&|_| settings.ga, &settings.polish, &[], &|s| {
            settings.seed.wrapping_add(s as u64)
        })?;
        Ok(Certificate {
            regret: responses.iter().map(|r| r.regret).collect(),
            regret_pct: responses.iter().map(|r| r.regret_pct).collect(),
            objective: responses
                .iter()
                .map(|r| r.current_outcome.objective)
                .collect(),
            tolerance_pct: 100.0 * settings.regret_tolerance,
        })
    }

    /// Totals of the market as it stands (every consumer answering each
    /// seller, weighted by its probability of buying from it).
    pub fn snapshot(&self) -> Result<MarketSnapshot, PricingError> {
        let k = self.sellers();
        let hourly: Vec<[f64; HOURS]> = self
            .prices
            .iter()
            .map(|p| p.hourly(&self.schedule))
            .collect();
        let units: Vec<Vec<UnitAnswer>> = hourly
            .iter()
            .map(|h| self.groups.solve(h, &self.settings.lower))
            .collect();
        let period = self.schedule.period_of_hour;
        struct Partial {
            books: Vec<SellerBook>,
            transferred: f64,
            out_of_peak: f64,
            into_valley: f64,
            satisfaction_sum: f64,
            satisfaction_min: f64,
            binding: f64,
        }
        let limit = self.settings.lower.adjustment_limit;
        let partials: Vec<Partial> = self
            .consumers
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(chunk, consumers)| {
                let mut p = Partial {
                    books: vec![SellerBook::default(); k],
                    transferred: 0.0,
                    out_of_peak: 0.0,
                    into_valley: 0.0,
                    satisfaction_sum: 0.0,
                    satisfaction_min: f64::INFINITY,
                    binding: 0.0,
                };
                let mut shares = vec![0.0; k];
                for (offset, consumer) in consumers.iter().enumerate() {
                    let i = chunk * CHUNK + offset;
                    self.shares_into(i, &mut shares);
                    let c = &consumer.controllable_kwh;
                    let band = limit * consumer.controllable_total_kwh();
                    let mut satisfaction = 0.0;
                    for s in 0..k {
                        let w = shares[s];
                        if w <= 0.0 {
                            continue;
                        }
                        let r =
                            self.answer_of(i, consumer, &self.prices[s], &hourly[s], &units[s])?;
                        r.add_to(&mut p.books[s], w);
                        let mut binds = false;
                        for t in 0..HOURS {
                            let d = r.shifted[t] - c[t];
                            p.transferred += w * 0.5 * d.abs();
                            match period[t] {
                                Period::Peak => p.out_of_peak -= w * d,
                                Period::Valley => p.into_valley += w * d,
                                Period::Flat => {}
                            }
                            if band > 0.0
                                && (d.abs() >= band * (1.0 - 1e-9)
                                    || (r.shifted[t] <= 1e-12 && c[t] > 0.0))
                            {
                                binds = true;
                            }
                        }
                        if binds {
                            p.binding += w;
                        }
                        satisfaction += w * r.satisfaction;
                    }
                    p.satisfaction_sum += satisfaction;
                    p.satisfaction_min = p.satisfaction_min.min(satisfaction);
                }
                Ok(p)
            })
            .collect::<Result<_, PricingError>>()?;
        let mut books = vec![SellerBook::default(); k];
        let (mut transferred, mut out_of_peak, mut into_valley, mut sat, mut sat_min, mut binding) =
            (0.0, 0.0, 0.0, 0.0, f64::INFINITY, 0.0);
        for p in &partials {
            for s in 0..k {
                books[s].add(&p.books[s]);
            }
            transferred += p.transferred;
            out_of_peak += p.out_of_peak;
            into_valley += p.into_valley;
            sat += p.satisfaction_sum;
            sat_min = sat_min.min(p.satisfaction_min);
            binding += p.binding;
        }
        let n = self.consumers.len().max(1) as f64;
        let outcomes = (0..k)
            .map(|s| {
                upper::evaluate_book(
                    &self.prices[s],
                    &self.schedule,
                    books[s],
                    &self.scenarios,
                    &self.settings.rules,
                    self.settings.lower.feed_in_per_kwh,
                )
            })
            .collect();
        Ok(MarketSnapshot {
            prices: self.prices.clone(),
            outcomes,
            transferred_kwh: transferred,
            moved_out_of_peak_kwh: out_of_peak,
            moved_into_valley_kwh: into_valley,
            mean_satisfaction: sat / n,
            min_satisfaction: if sat_min.is_finite() { sat_min } else { 1.0 },
            share_limit_binding: binding / n,
        })
    }
}
