//! Rule baselines the learned agents are compared with.
//!
//! All-day-ahead, all-real-time, and a rule that buys D̂ day-ahead and shifts
//! load toward the cheapest intervals of the previous day, plus a uniformly
//! random policy used as a floor in tests. They read only the decision context
//! (no future data); the perfect-foresight bound lives in `oracle`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::env::{Action, DecisionContext, Policy};

/// Buy the whole forecast D̂_t day-ahead (a₁ = 1; 0 where there is no
/// day-ahead market), never shift.
#[derive(Debug, Default, Clone)]
pub struct AllDayAhead;

impl Policy for AllDayAhead {
    fn act(&mut self, _ctx: &DecisionContext<'_>) -> Action {
        Action {
            a1_day_ahead: 1.0,
            a2_shift: 0.0,
        }
    }
}

/// Buy everything in real time (a₁ = 0), never shift.
#[derive(Debug, Default, Clone)]
pub struct AllRealTime;

impl Policy for AllRealTime {
    fn act(&mut self, _ctx: &DecisionContext<'_>) -> Action {
        Action::default()
    }
}

/// Buy D̂_t day-ahead; shift load into the intervals that were the cheapest
/// quarter of the previous day (a₂ = +1) and out of the most expensive quarter
/// (a₂ = −1). The environment's clipping keeps the storage feasible and
/// returns it to zero by the end of the day.
#[derive(Debug, Default, Clone)]
pub struct PreviousDayRule;

impl Policy for PreviousDayRule {
    fn act(&mut self, ctx: &DecisionContext<'_>) -> Action {
        let k = ctx.steps_per_day;
        let day_start = ctx.t - ctx.step_in_day;
        let a2 = if day_start >= k {
            let prev = &ctx.past_rt_price_per_mwh[day_start - k..day_start];
            let mine = prev[ctx.step_in_day];
            let rank = prev.iter().filter(|&&p| p < mine).count();
            if rank < k / 4 {
                1.0
            } else if rank >= k - k / 4 {
                -1.0
            } else {
                0.0
            }
        } else {
            0.0
        };
        Action {
            a1_day_ahead: 1.0,
            a2_shift: a2,
        }
    }
}

/// Uniformly random actions (a floor any learning agent must beat).
#[derive(Debug, Clone)]
pub struct RandomPolicy {
    rng: ChaCha8Rng,
}

impl RandomPolicy {
    pub fn new(seed: u64) -> Self {
        RandomPolicy {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

impl Policy for RandomPolicy {
    fn act(&mut self, _ctx: &DecisionContext<'_>) -> Action {
        Action {
            a1_day_ahead: self.rng.random_range(0.0..1.5),
            a2_shift: self.rng.random_range(-1.0..1.0),
        }
    }
}
