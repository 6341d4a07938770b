//! Competition among sellers for consumers, and the bilevel loop.
//!
//! Each consumer is a customer of one seller. Given all sellers' prices it
//! computes its optimal lower-level cost with every seller and moves to the
//! cheapest one only if that saves more than the switching threshold (2 %).
//! Sellers best-respond in turn with the GA (fitness = risk-adjusted
//! objective minus an average-price penalty, over the customers they would
//! have), until no price moves by more than the tolerance or the round limit.
//!
//! This module holds the market state and the rules of choice; it does not
//! read files or draw plots.

use rayon::prelude::*;

use crate::consumer::Consumer;
use crate::ga::{self, GaResult, GaSettings};
use crate::lower::{self, LowerLevelSettings};
use crate::tou::{Period, TouPrices, TouSchedule};
use crate::upper::{self, PriceScenarios, SellerBook, SellerOutcome, SellerRules};
use crate::{HOURS, PricingError};

/// Consumers per parallel work item (fixed so sums are reproducible).
const CHUNK: usize = 128;

/// Penalty per kWh bought and per yuan/kWh of average-price excess (yuan).
pub const AVERAGE_PRICE_PENALTY: f64 = 20.0;

/// Settings of the market.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketSettings {
    pub lower: LowerLevelSettings,
    pub rules: SellerRules,
    /// A consumer switches only if the new seller is cheaper by more than this share (0.02).
    pub switching_threshold: f64,
}

impl Default for MarketSettings {
    fn default() -> Self {
        Self {
            lower: LowerLevelSettings::default(),
            rules: SellerRules::default(),
            switching_threshold: 0.02,
        }
    }
}

/// How far a seller moves towards its best response in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PriceStep {
    /// All the way (plain sequential best response; can cycle).
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
    pub ga: GaSettings,
    pub max_rounds: usize,
    /// Converged when no price moves by more than this (yuan/kWh) in a round.
    pub price_tolerance: f64,
    pub seed: u64,
    pub step: PriceStep,
}

impl Default for CompetitionSettings {
    fn default() -> Self {
        Self {
            ga: GaSettings::default(),
            max_rounds: 10,
            price_tolerance: 0.001,
            seed: 1,
            step: PriceStep::Full,
        }
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
    assignment: Vec<usize>,
    /// costs[i * K + k]: consumer i's optimal lower-level cost with seller k (yuan).
    costs: Vec<f64>,
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
    pub min_satisfaction: f64,
    /// Share of consumers whose 15 % limit binds in some hour.
    pub share_limit_binding: f64,
}

/// One seller's best response.
#[derive(Debug, Clone)]
pub struct BestResponse {
    pub seller: usize,
    pub previous: TouPrices,
    pub chosen: TouPrices,
    /// The seller's regret at the previous prices: the GA's best penalised
    /// fitness minus that of the previous prices (yuan/day; ≤ 0 means the
    /// previous prices were already a best response, up to GA noise).
    pub gain: f64,
    pub ga: GaResult,
    pub outcome: SellerOutcome,
}

/// One round of best responses.
#[derive(Debug, Clone)]
pub struct RoundRecord {
    pub round: usize,
    pub responses: Vec<BestResponse>,
    pub snapshot: MarketSnapshot,
    pub customers: Vec<usize>,
    pub max_price_move: f64,
    /// Largest seller regret this round (see [`BestResponse::gain`]).
    pub max_gain: f64,
}

/// The outcome of the best-response loop.
#[derive(Debug, Clone)]
pub struct EquilibriumReport {
    pub rounds: Vec<RoundRecord>,
    pub converged: bool,
}

impl Market {
    /// A market with the given consumers, scenarios and initial seller prices;
    /// consumers are assigned round-robin to sellers before anyone chooses.
    pub fn new(
        consumers: Vec<Consumer>,
        schedule: TouSchedule,
        scenarios: PriceScenarios,
        settings: MarketSettings,
        initial_prices: Vec<TouPrices>,
    ) -> Result<Self, PricingError> {
        settings.lower.validate()?;
        settings.rules.validate()?;
        if scenarios.is_empty() {
            return Err(PricingError::NoScenarios);
        }
        if initial_prices.is_empty() {
            return Err(PricingError::BadMarket(
                "at least one seller is needed".into(),
            ));
        }
        if !(0.0..1.0).contains(&settings.switching_threshold) {
            return Err(PricingError::BadMarket(format!(
                "switching_threshold = {} must lie in [0, 1)",
                settings.switching_threshold
            )));
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
        Ok(market)
    }

    pub fn consumers(&self) -> &[Consumer] {
        &self.consumers
    }
    pub fn prices(&self) -> &[TouPrices] {
        &self.prices
    }
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
    /// Consumer i's optimal cost with seller k.
    pub fn cost(&self, consumer: usize, seller: usize) -> f64 {
        self.costs[consumer * self.sellers() + seller]
    }
    /// Customers per seller.
    pub fn customers(&self) -> Vec<usize> {
        let mut n = vec![0; self.sellers()];
        for &s in &self.assignment {
            n[s] += 1;
        }
        n
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
        self.consumers = consumers;
        for s in 0..self.sellers() {
            self.recompute_costs(s)?;
        }
        Ok(())
    }

    fn answer(
        &self,
        consumer: &Consumer,
        hourly: &[f64; HOURS],
    ) -> Result<(f64, SellerBook), PricingError> {
        if consumer.is_device_free() {
            let (cost, purchases, _) =
                lower::device_free_answer(consumer, hourly, &self.settings.lower);
            Ok((
                cost,
                SellerBook {
                    purchases_kwh: purchases,
                    sales_kwh: [0.0; HOURS],
                    customers: 1,
                },
            ))
        } else {
            let r = lower::respond(consumer, hourly, &self.settings.lower)?;
            Ok((
                r.total_cost(),
                SellerBook {
                    purchases_kwh: r.purchases_kwh,
                    sales_kwh: r.sales_kwh,
                    customers: 1,
                },
            ))
        }
    }

    fn recompute_costs(&mut self, seller: usize) -> Result<(), PricingError> {
        let hourly = self.prices[seller].hourly(&self.schedule);
        let k = self.sellers();
        let column: Vec<f64> = self
            .consumers
            .par_iter()
            .map(|c| self.answer(c, &hourly).map(|(cost, _)| cost))
            .collect::<Result<_, _>>()?;
        for (i, v) in column.into_iter().enumerate() {
            self.costs[i * k + seller] = v;
        }
        Ok(())
    }

    /// The switching rule: stay with `current` unless the cheapest seller saves
    /// more than the threshold. Ties go to the lower index.
    fn choose(&self, current: usize, cost_of: impl Fn(usize) -> f64) -> usize {
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
        if best != current
            && best_cost < current_cost - self.settings.switching_threshold * current_cost.abs()
        {
            best
        } else {
            current
        }
    }

    /// What seller `k` would sell (and to how many) if it posted `candidate`
    /// while the others keep their prices and consumers follow the switching rule.
    pub fn book_for_candidate(
        &self,
        k: usize,
        candidate: &TouPrices,
    ) -> Result<SellerBook, PricingError> {
        let hourly = candidate.hourly(&self.schedule);
        let p_min = hourly.iter().copied().fold(f64::INFINITY, f64::min);
        let threshold = self.settings.switching_threshold;
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
                    if current != k {
                        // Lower bound on the cost with k: base at its prices, controllable all at the cheapest price.
                        let bound: f64 = (0..HOURS)
                            .map(|t| hourly[t] * consumer.base_kwh[t])
                            .sum::<f64>()
                            + p_min * consumer.controllable_total_kwh()
                            - self.settings.lower.feed_in_per_kwh.max(0.0)
                                * consumer.pv_kwh.iter().sum::<f64>();
                        if consumer.is_device_free()
                            && bound >= row[current] - threshold * row[current].abs()
                        {
                            continue;
                        }
                    }
                    let (cost_k, answer) = self.answer(consumer, &hourly)?;
                    let chosen = self.choose(current, |s| if s == k { cost_k } else { row[s] });
                    if chosen == k {
                        book.add(&answer);
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

    /// Evaluate seller k's candidate prices.
    pub fn evaluate_candidate(
        &self,
        k: usize,
        candidate: &TouPrices,
    ) -> Result<SellerOutcome, PricingError> {
        let book = self.book_for_candidate(k, candidate)?;
        Ok(upper::evaluate_book(
            candidate,
            &self.schedule,
            book,
            &self.scenarios,
            &self.settings.rules,
            self.settings.lower.feed_in_per_kwh,
        ))
    }

    /// The GA's fitness: objective minus the average-price penalty.
    pub fn penalised_fitness(&self, outcome: &SellerOutcome) -> f64 {
        outcome.objective
            - AVERAGE_PRICE_PENALTY
                * outcome.average_price_excess(&self.settings.rules)
                * outcome.book.total_purchases_kwh()
    }

    /// Make `candidate` meet the average-price cap by pulling all three prices
    /// towards the floor: p(α) = floor + α·(p − floor), largest feasible α by
    /// bisection (α = 0 is always feasible because p_avg ≥ floor).
    pub fn repair_average_price(
        &self,
        k: usize,
        candidate: TouPrices,
    ) -> Result<TouPrices, PricingError> {
        let rules = self.settings.rules;
        let excess = |p: &TouPrices| -> Result<f64, PricingError> {
            Ok(self.evaluate_candidate(k, p)?.average_price_excess(&rules))
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

    /// Seller k's best response to the others (does not apply it).
    pub fn best_response(
        &self,
        k: usize,
        ga: &GaSettings,
        seed: u64,
    ) -> Result<BestResponse, PricingError> {
        if k >= self.sellers() {
            return Err(PricingError::BadMarket(format!(
                "seller {k} does not exist ({} sellers)",
                self.sellers()
            )));
        }
        let previous = self.prices[k];
        let mut failure: Option<PricingError> = None;
        let mut fitness = |p: &TouPrices| match self.evaluate_candidate(k, p) {
            Ok(o) => self.penalised_fitness(&o),
            Err(e) => {
                failure.get_or_insert(e);
                f64::NEG_INFINITY
            }
        };
        let result = ga::maximise(&mut fitness, &self.settings.rules, ga, &[previous], seed)?;
        if let Some(e) = failure {
            return Err(e);
        }
        // Keep the current prices unless the GA found something strictly better.
        let current_outcome = self.evaluate_candidate(k, &previous)?;
        let current_fitness = self.penalised_fitness(&current_outcome);
        let better = result.best_fitness > current_fitness + 1e-9 * current_fitness.abs().max(1.0);
        let chosen = if better { result.best } else { previous };
        let chosen = self.repair_average_price(
            k,
            self.settings.rules.repair_box([
                chosen.valley_per_kwh,
                chosen.flat_per_kwh,
                chosen.peak_per_kwh,
            ]),
        )?;
        let outcome = self.evaluate_candidate(k, &chosen)?;
        Ok(BestResponse {
            seller: k,
            previous,
            chosen,
            gain: result.best_fitness - current_fitness,
            ga: result,
            outcome,
        })
    }

    /// Post new prices for seller k and let every consumer re-choose.
    pub fn apply_prices(&mut self, k: usize, prices: TouPrices) -> Result<(), PricingError> {
        self.prices[k] = prices;
        self.recompute_costs(k)?;
        self.reassign();
        Ok(())
    }

    /// Every consumer applies the switching rule to the current costs.
    pub fn reassign(&mut self) {
        let n = self.sellers();
        let chosen: Vec<usize> = (0..self.consumers.len())
            .map(|i| {
                let row = &self.costs[i * n..(i + 1) * n];
                self.choose(self.assignment[i], |s| row[s])
            })
            .collect();
        self.assignment = chosen;
    }

    /// Run best responses in turn until prices settle or the round limit.
    pub fn run_to_equilibrium(
        &mut self,
        settings: &CompetitionSettings,
        on_response: &mut dyn FnMut(&BestResponse),
    ) -> Result<EquilibriumReport, PricingError> {
        let mut rounds = Vec::new();
        let mut converged = false;
        for round in 1..=settings.max_rounds {
            let mut responses = Vec::new();
            let mut max_move = 0.0_f64;
            for k in 0..self.sellers() {
                let seed = settings
                    .seed
                    .wrapping_mul(1_000_003)
                    .wrapping_add((round * 1000 + k) as u64);
                let mut response = self.best_response(k, &settings.ga, seed)?;
                if settings.step == PriceStep::Harmonic && round > 1 {
                    let w = 1.0 / round as f64;
                    let (p, c) = (response.previous, response.chosen);
                    let blended = self.settings.rules.repair_box([
                        p.valley_per_kwh + w * (c.valley_per_kwh - p.valley_per_kwh),
                        p.flat_per_kwh + w * (c.flat_per_kwh - p.flat_per_kwh),
                        p.peak_per_kwh + w * (c.peak_per_kwh - p.peak_per_kwh),
                    ]);
                    response.chosen = self.repair_average_price(k, blended)?;
                    response.outcome = self.evaluate_candidate(k, &response.chosen)?;
                }
                max_move = max_move.max(response.chosen.max_abs_difference(&response.previous));
                self.apply_prices(k, response.chosen)?;
                on_response(&response);
                responses.push(response);
            }
            let snapshot = self.snapshot()?;
            let max_gain = responses
                .iter()
                .map(|r| r.gain)
                .fold(f64::NEG_INFINITY, f64::max);
            rounds.push(RoundRecord {
                round,
                responses,
                snapshot,
                customers: self.customers(),
                max_price_move: max_move,
                max_gain,
            });
            if max_move <= settings.price_tolerance {
                converged = true;
                break;
            }
        }
        Ok(EquilibriumReport { rounds, converged })
    }

    /// Totals of the market as it stands (every consumer answering its own seller).
    pub fn snapshot(&self) -> Result<MarketSnapshot, PricingError> {
        let k = self.sellers();
        let hourly: Vec<[f64; HOURS]> = self
            .prices
            .iter()
            .map(|p| p.hourly(&self.schedule))
            .collect();
        let period = self.schedule.period_of_hour;
        struct Partial {
            books: Vec<SellerBook>,
            transferred: f64,
            out_of_peak: f64,
            into_valley: f64,
            satisfaction_sum: f64,
            satisfaction_min: f64,
            binding: usize,
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
                    binding: 0,
                };
                for (offset, consumer) in consumers.iter().enumerate() {
                    let s = self.assignment[chunk * CHUNK + offset];
                    let r = lower::respond(consumer, &hourly[s], &self.settings.lower)?;
                    p.books[s].add(&SellerBook {
                        purchases_kwh: r.purchases_kwh,
                        sales_kwh: r.sales_kwh,
                        customers: 1,
                    });
                    let c = &consumer.controllable_kwh;
                    let band = limit * consumer.controllable_total_kwh();
                    let mut binds = false;
                    for t in 0..HOURS {
                        let d = r.shifted_kwh[t] - c[t];
                        p.transferred += 0.5 * d.abs();
                        match period[t] {
                            Period::Peak => p.out_of_peak -= d,
                            Period::Valley => p.into_valley += d,
                            Period::Flat => {}
                        }
                        if band > 0.0
                            && (d.abs() >= band * (1.0 - 1e-9)
                                || (r.shifted_kwh[t] <= 1e-12 && c[t] > 0.0))
                        {
                            binds = true;
                        }
                    }
                    p.binding += usize::from(binds);
                    p.satisfaction_sum += r.satisfaction;
                    p.satisfaction_min = p.satisfaction_min.min(r.satisfaction);
                }
                Ok(p)
            })
            .collect::<Result<_, PricingError>>()?;
        let mut books = vec![SellerBook::default(); k];
        let (mut transferred, mut out_of_peak, mut into_valley, mut sat, mut sat_min, mut binding) =
            (0.0, 0.0, 0.0, 0.0, f64::INFINITY, 0usize);
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
            share_limit_binding: binding as f64 / n,
        })
    }
}
