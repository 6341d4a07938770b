//! The seller's search: a real-coded elitist genetic algorithm over
//! (p_valley, p_flat, p_peak). Binary tournament selection, simulated binary
//! crossover (SBX) and polynomial mutation, both bounded to [floor, cap];
//! box and ordering constraints are kept by repair (clamp, then sort), the
//! average-price constraint by the caller's penalty and final repair.
//! Deterministic for a given seed. It knows nothing about consumers: it
//! maximises whatever fitness it is given.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::PricingError;
use crate::tou::TouPrices;
use crate::upper::SellerRules;

/// GA settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaSettings {
    pub population: usize,
    pub generations: usize,
    /// Individuals copied unchanged into the next generation.
    pub elite: usize,
    pub crossover_probability: f64,
    /// Per-gene mutation probability.
    pub mutation_probability: f64,
    /// SBX distribution index η_c.
    pub crossover_eta: f64,
    /// Polynomial-mutation distribution index η_m.
    pub mutation_eta: f64,
    /// Stop after this many generations without improvement of the best (0 = never).
    pub stall_generations: usize,
}

impl Default for GaSettings {
    fn default() -> Self {
        Self {
            population: 24,
            generations: 40,
            elite: 2,
            crossover_probability: 0.9,
            mutation_probability: 1.0 / 3.0,
            crossover_eta: 15.0,
            mutation_eta: 20.0,
            stall_generations: 10,
        }
    }
}

impl GaSettings {
    pub fn validate(&self) -> Result<(), PricingError> {
        if self.population < 2 || self.elite >= self.population || self.generations == 0 {
            return Err(PricingError::BadGaSettings(format!(
                "need population ≥ 2 (got {}), elite < population (got {}), generations ≥ 1 (got {})",
                self.population, self.elite, self.generations
            )));
        }
        let probs = [self.crossover_probability, self.mutation_probability];
        if probs.iter().any(|p| !(0.0..=1.0).contains(p))
            || self.crossover_eta <= 0.0
            || self.mutation_eta <= 0.0
        {
            return Err(PricingError::BadGaSettings(
                "probabilities must lie in [0, 1] and distribution indices be > 0".into(),
            ));
        }
        Ok(())
    }
}

/// Fitness statistics of one generation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerationStats {
    pub generation: usize,
    pub best_fitness: f64,
    pub mean_fitness: f64,
}

/// The GA's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct GaResult {
    pub best: TouPrices,
    pub best_fitness: f64,
    pub history: Vec<GenerationStats>,
    pub evaluations: usize,
    /// The last generation (to warm-start the next search of the same seller).
    pub population: Vec<TouPrices>,
}

fn genes(p: &TouPrices) -> [f64; 3] {
    [p.valley_per_kwh, p.flat_per_kwh, p.peak_per_kwh]
}

fn sbx_pair(a: f64, b: f64, lo: f64, hi: f64, eta: f64, rng: &mut ChaCha8Rng) -> (f64, f64) {
    if (a - b).abs() < 1e-14 {
        return (a, b);
    }
    let u: f64 = rng.random();
    let beta = if u <= 0.5 {
        (2.0 * u).powf(1.0 / (eta + 1.0))
    } else {
        (1.0 / (2.0 * (1.0 - u))).powf(1.0 / (eta + 1.0))
    };
    let c1 = 0.5 * ((1.0 + beta) * a + (1.0 - beta) * b);
    let c2 = 0.5 * ((1.0 - beta) * a + (1.0 + beta) * b);
    (c1.clamp(lo, hi), c2.clamp(lo, hi))
}

fn polynomial_mutation(x: f64, lo: f64, hi: f64, eta: f64, rng: &mut ChaCha8Rng) -> f64 {
    let span = hi - lo;
    if span <= 0.0 {
        return lo;
    }
    let u: f64 = rng.random();
    let d1 = (x - lo) / span;
    let d2 = (hi - x) / span;
    let power = 1.0 / (eta + 1.0);
    let dq = if u < 0.5 {
        (2.0 * u + (1.0 - 2.0 * u) * (1.0 - d1).powf(eta + 1.0)).powf(power) - 1.0
    } else {
        1.0 - (2.0 * (1.0 - u) + 2.0 * (u - 0.5) * (1.0 - d2).powf(eta + 1.0)).powf(power)
    };
    (x + dq * span).clamp(lo, hi)
}

/// Maximise `fitness` over repaired price vectors. `seeds` are placed in the
/// first generation (e.g. the seller's current prices), the rest is uniform.
pub fn maximise(
    fitness: &mut dyn FnMut(&TouPrices) -> f64,
    rules: &SellerRules,
    settings: &GaSettings,
    seeds: &[TouPrices],
    seed: u64,
) -> Result<GaResult, PricingError> {
    rules.validate()?;
    settings.validate()?;
    let (lo, hi) = (rules.price_floor_per_kwh, rules.price_cap_per_kwh);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut population: Vec<TouPrices> = seeds
        .iter()
        .take(settings.population)
        .map(|p| rules.repair_box(genes(p)))
        .collect();
    while population.len() < settings.population {
        let g = [
            rng.random_range(lo..=hi),
            rng.random_range(lo..=hi),
            rng.random_range(lo..=hi),
        ];
        population.push(rules.repair_box(g));
    }
    let mut evaluations = 0usize;
    let mut scores: Vec<f64> = population
        .iter()
        .map(|p| {
            evaluations += 1;
            let f = fitness(p);
            if f.is_nan() { f64::NEG_INFINITY } else { f }
        })
        .collect();
    let mut history = Vec::with_capacity(settings.generations + 1);
    let record = |generation: usize, scores: &[f64]| {
        let finite: Vec<f64> = scores.iter().copied().filter(|s| s.is_finite()).collect();
        GenerationStats {
            generation,
            best_fitness: scores.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean_fitness: finite.iter().sum::<f64>() / finite.len().max(1) as f64,
        }
    };
    history.push(record(0, &scores));
    let mut stall = 0usize;
    for generation in 1..=settings.generations {
        let mut order: Vec<usize> = (0..population.len()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let mut next: Vec<TouPrices> = order
            .iter()
            .take(settings.elite)
            .map(|&i| population[i])
            .collect();
        let mut next_scores: Vec<f64> = order
            .iter()
            .take(settings.elite)
            .map(|&i| scores[i])
            .collect();
        let tournament = |rng: &mut ChaCha8Rng| {
            let a = rng.random_range(0..population.len());
            let b = rng.random_range(0..population.len());
            if scores[a] >= scores[b] { a } else { b }
        };
        while next.len() < settings.population {
            let (pa, pb) = (
                genes(&population[tournament(&mut rng)]),
                genes(&population[tournament(&mut rng)]),
            );
            let (mut ca, mut cb) = (pa, pb);
            if rng.random::<f64>() < settings.crossover_probability {
                for g in 0..3 {
                    let (x, y) = sbx_pair(pa[g], pb[g], lo, hi, settings.crossover_eta, &mut rng);
                    ca[g] = x;
                    cb[g] = y;
                }
            }
            for child in [&mut ca, &mut cb] {
                for g in child.iter_mut() {
                    if rng.random::<f64>() < settings.mutation_probability {
                        *g = polynomial_mutation(*g, lo, hi, settings.mutation_eta, &mut rng);
                    }
                }
            }
            for child in [ca, cb] {
                if next.len() < settings.population {
                    let p = rules.repair_box(child);
                    evaluations += 1;
                    let f = fitness(&p);
                    next.push(p);
                    next_scores.push(if f.is_nan() { f64::NEG_INFINITY } else { f });
                }
            }
        }
        let previous_best = history
            .last()
            .map(|h| h.best_fitness)
            .unwrap_or(f64::NEG_INFINITY);
        population = next;
        scores = next_scores;
        let stats = record(generation, &scores);
        let improved = stats.best_fitness > previous_best + 1e-12 * previous_best.abs().max(1.0);
        history.push(stats);
        stall = if improved { 0 } else { stall + 1 };
        if settings.stall_generations > 0 && stall >= settings.stall_generations {
            break;
        }
    }
    let best_index = (0..population.len())
        .max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)))
        .unwrap_or(0);
    Ok(GaResult {
        best: population[best_index],
        best_fitness: scores[best_index],
        history,
        evaluations,
        population,
    })
}

/// Settings of the local polish of the GA's best.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolishSettings {
    /// First step of the pattern (yuan/kWh).
    pub initial_step: f64,
    /// Stop once the step falls below this (yuan/kWh).
    pub min_step: f64,
    /// Stop after this many fitness evaluations.
    pub max_evaluations: usize,
}

impl Default for PolishSettings {
    fn default() -> Self {
        Self {
            initial_step: 0.01,
            min_step: 5e-4,
            max_evaluations: 60,
        }
    }
}

/// The polish's answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolishResult {
    pub best: TouPrices,
    pub best_fitness: f64,
    pub evaluations: usize,
}

/// Bounded pattern (compass) search from `start`: try ± `step` along each
/// price and along the common level (all three together), each trial
/// repaired to the box; move to the first improvement, halve the step when
/// none of the eight improves, stop below `min_step` or at the evaluation
/// budget. Never returns worse than `start`.
pub fn pattern_search(
    fitness: &mut dyn FnMut(&TouPrices) -> f64,
    rules: &SellerRules,
    start: TouPrices,
    start_fitness: f64,
    settings: &PolishSettings,
) -> PolishResult {
    const DIRECTIONS: [[f64; 3]; 8] = [
        [1.0, 1.0, 1.0],
        [-1.0, -1.0, -1.0],
        [1.0, 0.0, 0.0],
        [-1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, -1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.0, -1.0],
    ];
    let mut best = rules.repair_box(genes(&start));
    let mut best_fitness = if best == start {
        start_fitness
    } else {
        fitness(&best)
    };
    let mut evaluations = usize::from(best != start);
    let mut step = settings.initial_step;
    // The direction that last improved is tried first.
    let mut first = 0usize;
    while step >= settings.min_step && evaluations < settings.max_evaluations {
        let mut moved = false;
        for d in 0..DIRECTIONS.len() {
            let dir = DIRECTIONS[(first + d) % DIRECTIONS.len()];
            let g = genes(&best);
            let trial = rules.repair_box([
                g[0] + step * dir[0],
                g[1] + step * dir[1],
                g[2] + step * dir[2],
            ]);
            if trial.max_abs_difference(&best) < 1e-15 {
                continue;
            }
            evaluations += 1;
            let f = fitness(&trial);
            if f > best_fitness {
                best = trial;
                best_fitness = f;
                first = (first + d) % DIRECTIONS.len();
                moved = true;
                break;
            }
            if evaluations >= settings.max_evaluations {
                break;
            }
        }
        if !moved {
            step *= 0.5;
        }
    }
    PolishResult {
        best,
        best_fitness,
        evaluations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_maximum_of_a_concave_function_inside_the_box() {
        let rules = SellerRules::default();
        let target = TouPrices::new(1.4, 1.0, 0.7);
        let mut f = |p: &TouPrices| -> f64 {
            -((p.peak_per_kwh - target.peak_per_kwh).powi(2)
                + (p.flat_per_kwh - target.flat_per_kwh).powi(2)
                + (p.valley_per_kwh - target.valley_per_kwh).powi(2))
        };
        let settings = GaSettings {
            generations: 150,
            stall_generations: 0,
            ..GaSettings::default()
        };
        let r = maximise(&mut f, &rules, &settings, &[], 3).unwrap();
        assert!(r.best.max_abs_difference(&target) < 5e-3, "{:?}", r.best);
        // Elitism: best fitness never decreases.
        for w in r.history.windows(2) {
            assert!(w[1].best_fitness >= w[0].best_fitness);
        }
    }

    #[test]
    fn pattern_search_climbs_to_a_smooth_maximum_near_its_start() {
        let rules = SellerRules::default();
        let target = TouPrices::new(1.43, 1.17, 0.81);
        let mut f = |p: &TouPrices| -> f64 {
            -((p.peak_per_kwh - target.peak_per_kwh).powi(2)
                + (p.flat_per_kwh - target.flat_per_kwh).powi(2)
                + (p.valley_per_kwh - target.valley_per_kwh).powi(2))
        };
        let start = TouPrices::new(1.4, 1.2, 0.8);
        let f_start = f(&start);
        let r = pattern_search(&mut f, &rules, start, f_start, &PolishSettings::default());
        assert!(r.best.max_abs_difference(&target) < 1e-3, "{:?}", r.best);
        assert!(r.evaluations <= PolishSettings::default().max_evaluations);
    }

    #[test]
    fn rejects_an_elite_as_large_as_the_population() {
        let s = GaSettings {
            elite: 24,
            ..GaSettings::default()
        };
        assert!(s.validate().is_err());
    }
}
