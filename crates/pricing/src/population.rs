//! Building the consumers of an experiment from real household-days: a user is
//! one household-day (hourly), scaled and jittered deterministically so that
//! a few hundred real curves give thousands of distinct users. Consumers built
//! here are device-free; the community experiment adds devices itself.
//!
//! Recipe: for user i draw (seeded ChaCha8) a household-day from the pool, a
//! scale s ~ U[0.7, 1.3] and an hourly jitter j_t ~ U[0.95, 1.05] with
//! L_t = general_t + controlled_t; κ from the FCM memberships of that curve;
//! c_t = κ·s·L_t and base_t = (1 − κ)·s·j_t·L_t. The jitter varies the base
//! load only, so users drawn from the same household-day keep the same
//! controllable shape up to scale, and share one lower-level solve
//! (`shapes`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::HOURS;
use crate::classify::LoadClassification;
use crate::consumer::Consumer;
use crate::data::HouseholdDay;

/// How to turn household-days into users.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PopulationRecipe {
    pub users: usize,
    pub seed: u64,
    pub scale_min: f64,
    pub scale_max: f64,
    /// Half-width of the multiplicative hourly jitter (0.05 = ±5 %).
    pub hourly_jitter: f64,
}

impl PopulationRecipe {
    pub fn new(users: usize, seed: u64) -> Self {
        Self {
            users,
            seed,
            scale_min: 0.7,
            scale_max: 1.3,
            hourly_jitter: 0.05,
        }
    }
}

/// Build device-free consumers from a pool of household-days.
/// Returns an empty vector when the pool is empty.
pub fn build_consumers(
    pool: &[&HouseholdDay],
    classification: &LoadClassification,
    recipe: &PopulationRecipe,
) -> Vec<Consumer> {
    let usable: Vec<&&HouseholdDay> = pool
        .iter()
        .filter(|d| d.total_load_kwh().iter().sum::<f64>() >= 1.0)
        .collect();
    if usable.is_empty() {
        return Vec::new();
    }
    let kappas: Vec<f64> = usable
        .iter()
        .map(|d| classification.controllable_fraction(&d.total_load_kwh()))
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(recipe.seed);
    (0..recipe.users)
        .map(|id| {
            let pick = rng.random_range(0..usable.len());
            let day = usable[pick];
            let scale = rng.random_range(recipe.scale_min..=recipe.scale_max);
            let kappa = kappas[pick];
            let load = day.total_load_kwh();
            let mut base = [0.0; HOURS];
            let mut controllable = [0.0; HOURS];
            for h in 0..HOURS {
                let jitter = 1.0 + rng.random_range(-recipe.hourly_jitter..=recipe.hourly_jitter);
                let l = load[h] * scale;
                controllable[h] = kappa * l;
                base[h] = (1.0 - kappa) * l * jitter;
            }
            Consumer::device_free(id, base, controllable)
        })
        .collect()
}
