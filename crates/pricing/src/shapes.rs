//! Consumers grouped by identical lower-level problems.
//!
//! For a device-free consumer with controllable curve c = C·ĉ (ĉ sums to 1),
//! the lower level `min Σ p_t x_t + ω Σ (x_t − c_t)²/C`, `Σ x = C`,
//! `max(0, c_t − 0.15C) ≤ x_t ≤ c_t + 0.15C` becomes, with x = C·y,
//! `C · min Σ p_t y_t + ω Σ (y_t − ĉ_t)²` over the same constraints scaled by
//! 1/C: the optimal y depends only on the shape ĉ and the prices, and the
//! cost scales with C. Consumers whose shapes agree (to 2⁻⁴⁰ per hour) share
//! one solve per price vector; their base load enters the cost linearly.
//! This module only groups and solves; it decides nothing about sellers.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::HOURS;
use crate::consumer::Consumer;
use crate::lower::{self, LowerLevelSettings};

/// How a consumer's lower level is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Device-free with controllable energy: the shape group's unit answer, scaled.
    Shape(u32),
    /// Device-free without controllable energy: it only buys its base load.
    NoControllable,
    /// PV, battery or EV: the device QP (clarabel) per consumer.
    Devices,
}

/// The answer of a shape to hourly prices, per kWh of controllable energy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitAnswer {
    /// y_t = x_t / C.
    pub shifted: [f64; HOURS],
    /// (Σ_t p_t x_t + ω Σ_t (x_t − c_t)²/C) / C (yuan per kWh of C).
    pub cost_per_kwh: f64,
}

/// Distinct normalised controllable curves and each consumer's route.
#[derive(Debug, Clone, Default)]
pub struct ShapeGroups {
    shapes: Vec<[f64; HOURS]>,
    routes: Vec<Route>,
}

/// Shapes per parallel work item.
const CHUNK: usize = 64;

impl ShapeGroups {
    pub fn new(consumers: &[Consumer]) -> Self {
        let mut index: HashMap<[i64; HOURS], u32> = HashMap::new();
        let mut shapes = Vec::new();
        let routes = consumers
            .iter()
            .map(|c| {
                if !c.is_device_free() {
                    return Route::Devices;
                }
                let total = c.controllable_total_kwh();
                if total <= 0.0 {
                    return Route::NoControllable;
                }
                let shape = c.controllable_kwh.map(|v| v / total);
                let key = shape.map(|v| (v * (1u64 << 40) as f64).round() as i64);
                let g = *index.entry(key).or_insert_with(|| {
                    shapes.push(shape);
                    (shapes.len() - 1) as u32
                });
                Route::Shape(g)
            })
            .collect();
        Self { shapes, routes }
    }

    /// Number of distinct shapes.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }
    pub fn route(&self, consumer: usize) -> Route {
        self.routes[consumer]
    }

    /// Every shape's answer to `hourly` prices (parallel over fixed chunks).
    pub fn solve(&self, hourly: &[f64; HOURS], settings: &LowerLevelSettings) -> Vec<UnitAnswer> {
        let omega = settings.comfort_coefficient;
        let solve_one = |shape: &[f64; HOURS]| {
            let sol = lower::solve_shift_exact(hourly, shape, omega, settings.adjustment_limit);
            let energy: f64 = (0..HOURS).map(|t| hourly[t] * sol.shifted_kwh[t]).sum();
            UnitAnswer {
                shifted: sol.shifted_kwh,
                cost_per_kwh: energy + lower::comfort_cost(&sol.shifted_kwh, shape, omega),
            }
        };
        if self.shapes.len() <= CHUNK {
            return self.shapes.iter().map(solve_one).collect();
        }
        self.shapes
            .par_chunks(CHUNK)
            .flat_map_iter(|chunk| chunk.iter().map(solve_one))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scaled_copy_shares_the_shape_and_its_answer_scales() {
        let mut c = [0.0; HOURS];
        for (t, v) in c.iter_mut().enumerate() {
            *v = 0.1 + 0.05 * (t % 5) as f64;
        }
        let base = [0.3; HOURS];
        let a = Consumer::device_free(0, base, c);
        let b = Consumer::device_free(1, [0.7; HOURS], c.map(|v| v * 1.37));
        let groups = ShapeGroups::new(&[a.clone(), b.clone()]);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups.route(1), Route::Shape(0));
        let mut prices = [1.0; HOURS];
        prices[18] = 1.8;
        prices[3] = 0.6;
        let settings = LowerLevelSettings::default();
        let unit = groups.solve(&prices, &settings)[0];
        for consumer in [&a, &b] {
            let (cost, purchases, _) = lower::device_free_answer(consumer, &prices, &settings);
            let total = consumer.controllable_total_kwh();
            let base_cost: f64 = (0..HOURS).map(|t| prices[t] * consumer.base_kwh[t]).sum();
            assert!((base_cost + total * unit.cost_per_kwh - cost).abs() < 1e-9 * cost);
            for t in 0..HOURS {
                let x = consumer.base_kwh[t] + total * unit.shifted[t];
                assert!((x - purchases[t]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn different_shapes_and_devices_take_their_own_routes() {
        let mut c = [0.2; HOURS];
        let a = Consumer::device_free(0, [0.3; HOURS], c);
        c[5] = 0.9;
        let b = Consumer::device_free(1, [0.3; HOURS], c);
        let none = Consumer::device_free(2, [0.3; HOURS], [0.0; HOURS]);
        let mut pv = Consumer::device_free(3, [0.3; HOURS], c);
        pv.pv_kwh[12] = 1.0;
        let g = ShapeGroups::new(&[a, b, none, pv]);
        assert_eq!(g.len(), 2);
        assert_eq!(g.route(2), Route::NoControllable);
        assert_eq!(g.route(3), Route::Devices);
    }
}
