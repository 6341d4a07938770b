//! Synthetic consumers and scenarios shared by the integration tests.
#![allow(dead_code)]
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use voltex_pricing::HOURS;
use voltex_pricing::consumer::Consumer;
use voltex_pricing::upper::PriceScenarios;

/// Device-free consumers with an evening peak and some noise.
pub fn synthetic_consumers(n: usize, seed: u64) -> Vec<Consumer> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|id| {
            let scale = rng.random_range(0.5..1.5);
            let mut base = [0.0; HOURS];
            let mut c = [0.0; HOURS];
            for h in 0..HOURS {
                let shape = if (17..22).contains(&h) {
                    1.6
                } else if (7..10).contains(&h) {
                    1.0
                } else {
                    0.5
                };
                let l = scale * shape * rng.random_range(0.8..1.2);
                c[h] = 0.3 * l;
                base[h] = 0.7 * l;
            }
            Consumer::device_free(id, base, c)
        })
        .collect()
}

/// Scenarios with cheap nights and dear evenings, plus one spike day.
pub fn synthetic_scenarios(n: usize, seed: u64) -> PriceScenarios {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut spot = Vec::new();
    for s in 0..n {
        let mut day = [0.0; HOURS];
        for (h, v) in day.iter_mut().enumerate() {
            let level = if (17..21).contains(&h) {
                1.0
            } else if !(7..23).contains(&h) {
                0.45
            } else {
                0.7
            };
            *v = level * rng.random_range(0.9..1.1);
        }
        if s == 0 {
            day[18] = 6.0;
        }
        spot.push(day);
    }
    PriceScenarios {
        labels: (0..n).map(|s| format!("s{s}")).collect(),
        spot_per_kwh: spot,
    }
}
