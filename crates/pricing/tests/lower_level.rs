//! The exact device-free solver against clarabel and against its own KKT
//! conditions; the device QP's limits.
#![allow(clippy::needless_range_loop)]
mod common;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use voltex_pricing::HOURS;
use voltex_pricing::consumer::{Battery, Consumer, ElectricVehicle};
use voltex_pricing::lower::{self, LowerLevelSettings};

fn random_instance(rng: &mut ChaCha8Rng) -> ([f64; HOURS], [f64; HOURS], [f64; HOURS], f64) {
    let mut p = [0.0; HOURS];
    let mut c = [0.0; HOURS];
    let mut base = [0.0; HOURS];
    for h in 0..HOURS {
        p[h] = rng.random_range(0.5..2.0);
        c[h] = if rng.random_bool(0.2) {
            0.0
        } else {
            rng.random_range(0.0..2.0)
        };
        base[h] = rng.random_range(0.0..1.0);
    }
    let omega = 10f64.powf(rng.random_range(-2.0..2.0));
    (p, c, base, omega)
}

#[test]
fn exact_solver_agrees_with_clarabel_to_1e_6_on_random_instances() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut worst: f64 = 0.0;
    for i in 0..150 {
        let (p, c, base, omega) = random_instance(&mut rng);
        let settings = LowerLevelSettings {
            comfort_coefficient: omega,
            ..LowerLevelSettings::default()
        };
        let consumer = Consumer::device_free(i, base, c);
        let exact = lower::solve_shift_exact(&p, &c, omega, settings.adjustment_limit);
        let qp = lower::respond_with_qp(&consumer, &p, &settings).unwrap();
        for h in 0..HOURS {
            worst = worst.max((exact.shifted_kwh[h] - qp.shifted_kwh[h]).abs());
        }
        let exact_answer = lower::respond(&consumer, &p, &settings).unwrap();
        assert!(
            (exact_answer.total_cost() - qp.total_cost()).abs()
                < 1e-6 * (1.0 + qp.total_cost().abs())
        );
    }
    assert!(worst < 1e-6, "largest difference {worst:e} kWh");
}

#[test]
fn exact_solver_kkt_residuals_are_below_1e_8() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..2000 {
        let (p, c, _, omega) = random_instance(&mut rng);
        let sol = lower::solve_shift_exact(&p, &c, omega, 0.15);
        let r = lower::kkt_residual(&p, &c, omega, 0.15, &sol);
        assert!(r < 1e-8, "KKT residual {r:e}");
    }
}

#[test]
fn clarabel_multiplier_has_the_sign_of_the_exact_one() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (p, c, base, omega) = random_instance(&mut rng);
    let settings = LowerLevelSettings {
        comfort_coefficient: omega,
        ..LowerLevelSettings::default()
    };
    let exact = lower::solve_shift_exact(&p, &c, omega, 0.15);
    let qp = lower::respond_with_qp(&Consumer::device_free(0, base, c), &p, &settings).unwrap();
    assert!((exact.multiplier_per_kwh - qp.multiplier_per_kwh).abs() < 1e-5);
}

proptest! {
    #[test]
    fn exact_solution_is_feasible_and_keeps_daily_energy(
        prices in prop::array::uniform24(0.5f64..2.0),
        c in prop::array::uniform24(0.0f64..3.0),
        log_omega in -3.0f64..3.0,
    ) {
        let omega = 10f64.powf(log_omega);
        let sol = lower::solve_shift_exact(&prices, &c, omega, 0.15);
        let total: f64 = c.iter().sum();
        prop_assert!((sol.shifted_kwh.iter().sum::<f64>() - total).abs() < 1e-9 * (1.0 + total));
        for h in 0..HOURS {
            prop_assert!(sol.shifted_kwh[h] >= 0.0);
            prop_assert!((sol.shifted_kwh[h] - c[h]).abs() <= 0.15 * total + 1e-9);
        }
        prop_assert!(lower::kkt_residual(&prices, &c, omega, 0.15, &sol) < 1e-8);
        let s = lower::satisfaction(&sol.shifted_kwh, &c);
        prop_assert!((0.0..=1.0).contains(&s));
    }
}

fn tou_prices() -> [f64; HOURS] {
    let mut p = [1.0; HOURS];
    for (h, v) in p.iter_mut().enumerate() {
        if !(7..23).contains(&h) {
            *v = 0.5;
        } else if (17..21).contains(&h) {
            *v = 1.8;
        }
    }
    p
}

#[test]
fn device_qp_respects_battery_and_ev_limits() {
    let consumers = common::synthetic_consumers(1, 3);
    let mut pv = [0.0; HOURS];
    for (h, v) in pv.iter_mut().enumerate().take(17).skip(8) {
        *v = 5.0 * (1.0 - ((h as f64 - 12.5) / 4.5).powi(2)).max(0.0);
    }
    let consumer = Consumer {
        pv_kwh: pv,
        battery: Some(Battery::default()),
        ev: Some(ElectricVehicle::default()),
        ..consumers[0].clone()
    };
    let settings = LowerLevelSettings::default();
    let r = lower::respond(&consumer, &tou_prices(), &settings).unwrap();
    let ev = ElectricVehicle::default();
    let mut soc_ev_min = f64::INFINITY;
    // Reconstruct EV state of charge from the periodic balance: start from the
    // level that makes its minimum exactly feasible and check the swing fits.
    let mut soc = 0.0;
    let mut trajectory = Vec::new();
    for h in 0..HOURS {
        assert!(r.battery_charge_kwh[h] <= 6.0 + 1e-6 && r.battery_discharge_kwh[h] <= 6.0 + 1e-6);
        assert!(r.ev_charge_kwh[h] <= 3.4 + 1e-6 && r.ev_discharge_kwh[h] <= 3.4 + 1e-6);
        if !ev.at_home[h] {
            assert!(
                r.ev_charge_kwh[h].abs() < 1e-6 && r.ev_discharge_kwh[h].abs() < 1e-6,
                "EV used while away at {h}"
            );
        }
        soc += ev.efficiency * r.ev_charge_kwh[h]
            - r.ev_discharge_kwh[h] / ev.efficiency
            - ev.driving_kwh[h];
        trajectory.push(soc);
        soc_ev_min = soc_ev_min.min(soc);
        let balance = consumer.base_kwh[h] + r.shifted_kwh[h] - pv[h] + r.battery_charge_kwh[h]
            - r.battery_discharge_kwh[h]
            + r.ev_charge_kwh[h]
            - r.ev_discharge_kwh[h];
        assert!((balance - r.grid_kwh[h]).abs() < 1e-9);
        assert!(r.purchases_kwh[h] * r.sales_kwh[h] == 0.0);
    }
    // Periodic: the day ends where it started.
    assert!(soc.abs() < 1e-5, "EV energy not periodic: {soc}");
    let swing = trajectory.iter().copied().fold(f64::NEG_INFINITY, f64::max) - soc_ev_min.min(0.0);
    assert!(
        swing <= ev.capacity_kwh * (1.0 - ev.min_soc_fraction) + 1e-5,
        "EV swing {swing} exceeds the 40 %–100 % window"
    );
    assert!((r.shifted_kwh.iter().sum::<f64>() - consumer.controllable_total_kwh()).abs() < 1e-6);
    assert!(r.satisfaction > 0.0 && r.satisfaction <= 1.0);
}

#[test]
fn rejects_a_negative_comfort_coefficient() {
    let consumer = common::synthetic_consumers(1, 1).remove(0);
    let settings = LowerLevelSettings {
        comfort_coefficient: -1.0,
        ..LowerLevelSettings::default()
    };
    let err = lower::respond_with_qp(&consumer, &tou_prices(), &settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("comfort coefficient"), "{err}");
}
