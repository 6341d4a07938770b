//! Worked examples of every baseline, each answer computed by hand in the
//! comments; the day exclusions; and a property: no baseline panics or goes
//! negative on arbitrary non-negative loads.
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use proptest::prelude::*;
use voltex_dr::DrError;
use voltex_dr::baseline::{
    Adjustment, BaselineConfig, Exclusions, LoadHistory, Method, Window, compute,
    high_four_of_five, high_x_of_y, regression, ten_in_ten,
};
use voltex_dr::money::Bp;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Hourly data: 24 intervals a day; event 14:00–16:00, so the adjustment
/// window (4 h ending 1 h before) is 09:00–13:00 = slots 9..13.
const W: Window = Window {
    start_slot: 14,
    end_slot: 16,
};
const EVENT_DAY: &str = "2026-07-15"; // a Wednesday

/// Weekdays before 2026-07-15, most recent first, skipping weekends.
fn weekdays_before(day: NaiveDate, n: usize) -> Vec<NaiveDate> {
    let mut out = vec![];
    let mut x = day;
    while out.len() < n {
        x -= Duration::days(1);
        if !matches!(x.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(x);
        }
    }
    out
}

/// 10 ordinary weekdays at 110, 120, …, 200 Wh flat (mean 155), with a
/// holiday, an event day and every weekend in between at 9 999, and two
/// older weekdays at 9 999 that a 10-in-10 must not reach.
fn ten_in_ten_history(event_day_wh: i64) -> (LoadHistory, Exclusions) {
    let day = d(EVENT_DAY);
    let mut h = LoadHistory::new(60);
    let mut excl = Exclusions::default();
    excl.holidays.insert(d("2026-07-10"));
    excl.event_days.insert(d("2026-07-13"));
    let mut k = 0;
    let mut x = day;
    while x > d("2026-06-20") {
        x -= Duration::days(1);
        let weekend = matches!(x.weekday(), Weekday::Sat | Weekday::Sun);
        let v = if weekend || !excl.ordinary(x) || k >= 10 {
            9_999
        } else {
            k += 1;
            100 + 10 * k
        };
        h.insert(x, vec![v; 24]).unwrap();
    }
    h.insert(day, vec![event_day_wh; 24]).unwrap();
    (h, excl)
}

#[test]
fn ten_in_ten_averages_ten_ordinary_weekdays_excluding_weekends_holidays_and_event_days() {
    // actual 124 in the adjustment window: r = 124 / 155 = 0.8 exactly, at
    // the cap's edge but not beyond it: B' = 155 × 0.8 = 124
    let (h, excl) = ten_in_ten_history(124);
    let b = ten_in_ten(&h, d(EVENT_DAY), W, &excl, &BaselineConfig::default()).unwrap();
    assert_eq!(b.days_used.len(), 10);
    assert!(!b.days_used.contains(&d("2026-07-10")), "holiday used");
    assert!(!b.days_used.contains(&d("2026-07-13")), "event day used");
    assert!(
        b.days_used
            .iter()
            .all(|x| x.weekday().num_days_from_monday() < 5)
    );
    assert_eq!(b.days_used[0], d("2026-07-14"));
    assert_eq!(
        b.adjustment,
        Adjustment::Ratio {
            ratio: Bp(8_000),
            capped: false
        }
    );
    assert_eq!(b.wh, vec![124; 24]);
}

#[test]
fn ten_in_ten_day_of_ratio_is_capped_at_twenty_percent() {
    // actual 310 = 2 × 155: capped to 1.2, B' = 155 × 1.2 = 186
    let (h, excl) = ten_in_ten_history(310);
    let b = ten_in_ten(&h, d(EVENT_DAY), W, &excl, &BaselineConfig::default()).unwrap();
    assert_eq!(
        b.adjustment,
        Adjustment::Ratio {
            ratio: Bp(12_000),
            capped: true
        }
    );
    assert_eq!(b.window_wh(W), 2 * 186);
    // the cap is configurable: at ±100 % the ratio 2 passes, B' = 310
    let mut cfg = BaselineConfig::default();
    cfg.adjustment.cap = Bp(10_000);
    let b = ten_in_ten(&h, d(EVENT_DAY), W, &excl, &cfg).unwrap();
    assert_eq!(b.wh[W.start_slot], 310);
    // and downward: actual 100 → r = 0.645 → capped to 0.8: 124
    let (h, excl) = ten_in_ten_history(100);
    let b = ten_in_ten(&h, d(EVENT_DAY), W, &excl, &BaselineConfig::default()).unwrap();
    assert_eq!(b.wh[W.start_slot], 124);
}

#[test]
fn ten_in_ten_without_the_days_readings_is_unadjusted() {
    let (mut h, excl) = ten_in_ten_history(310);
    h.days.remove(&d(EVENT_DAY));
    let b = ten_in_ten(&h, d(EVENT_DAY), W, &excl, &BaselineConfig::default()).unwrap();
    assert_eq!(b.adjustment, Adjustment::None);
    assert_eq!(b.wh, vec![155; 24]);
}

#[test]
fn ten_in_ten_refuses_too_short_a_history() {
    let (h, excl) = ten_in_ten_history(155);
    let mut short = LoadHistory::new(60);
    for (day, v) in h.days.range(d("2026-07-08")..) {
        short.insert(*day, v.clone()).unwrap();
    }
    let err = ten_in_ten(&short, d(EVENT_DAY), W, &excl, &BaselineConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DrError::InsufficientHistory {
                needed: 10,
                found: 3,
                ..
            }
        ),
        "{err}"
    );
}

/// Five weekdays: four flat at 100, 200, 300, 400 Wh and one at 1 000
/// outside the window but only 50 inside it.
fn five_days(event_day_wh: i64) -> LoadHistory {
    let day = d(EVENT_DAY);
    let mut h = LoadHistory::new(60);
    let days = weekdays_before(day, 5);
    for (x, v) in days.iter().zip([100, 200, 300, 400]) {
        h.insert(*x, vec![v; 24]).unwrap();
    }
    let mut odd = vec![1_000; 24];
    odd[14] = 50;
    odd[15] = 50;
    h.insert(days[4], odd).unwrap();
    h.insert(day, vec![event_day_wh; 24]).unwrap();
    h
}

#[test]
fn high_four_of_five_ranks_by_window_load_and_adds_the_mean_difference() {
    // the 1 000/50 day has the least window energy and is dropped: B = 250;
    // actual 280 in 09:00–13:00: Δ = +30, B' = 280
    let h = five_days(280);
    let b = high_four_of_five(
        &h,
        d(EVENT_DAY),
        W,
        &Exclusions::default(),
        &BaselineConfig::default(),
    )
    .unwrap();
    assert_eq!(b.days_used.len(), 4);
    assert_eq!(b.adjustment, Adjustment::Additive { wh: 30 });
    assert_eq!(b.wh[14..16], [280, 280]);
    // symmetric: actual 200 gives Δ = −50 and B' = 200
    let h = five_days(200);
    let b = high_four_of_five(
        &h,
        d(EVENT_DAY),
        W,
        &Exclusions::default(),
        &BaselineConfig::default(),
    )
    .unwrap();
    assert_eq!(b.adjustment, Adjustment::Additive { wh: -50 });
    assert_eq!(b.window_wh(W), 400);
    // never below zero: actual 0 gives Δ = −250, B' = 0
    let h = five_days(0);
    let b = compute(
        Method::HighFourOfFive,
        &h,
        d(EVENT_DAY),
        W,
        &Exclusions::default(),
        &BaselineConfig::default(),
    )
    .unwrap();
    assert!(b.wh.iter().all(|x| *x == 0));
}

#[test]
fn high_five_of_ten_averages_the_five_highest_window_days() {
    // ten weekdays with window load 10, 20, …, 100 Wh (and 1 000 outside
    // the window): the five highest are 60..100, B = 80 in the window
    let day = d(EVENT_DAY);
    let mut h = LoadHistory::new(60);
    for (k, x) in weekdays_before(day, 10).iter().enumerate() {
        let mut v = vec![1_000; 24];
        v[14] = 10 * (k as i64 + 1);
        v[15] = 10 * (k as i64 + 1);
        h.insert(*x, v).unwrap();
    }
    let b = high_x_of_y(
        &h,
        day,
        W,
        &Exclusions::default(),
        &BaselineConfig::default(),
    )
    .unwrap();
    assert_eq!(b.wh[14], 80);
    assert_eq!(b.wh[0], 1_000);
    assert_eq!(b.adjustment, Adjustment::None);
    assert_eq!(b.days_used.len(), 5);
}

#[test]
fn regression_recovers_an_additive_interval_and_weekday_pattern() {
    // e = 100 + 10 t + 7 × weekday (Mon 0 … Sun 6): the model holds it
    // exactly, weekends included, so a Saturday is predicted exactly too
    let mut h = LoadHistory::new(60);
    let mut x = d("2026-06-01");
    while x < d("2026-07-20") {
        let w = x.weekday().num_days_from_monday() as i64;
        h.insert(x, (0..24).map(|t| 100 + 10 * t + 7 * w).collect())
            .unwrap();
        x += Duration::days(1);
    }
    for day in ["2026-07-15", "2026-07-18"] {
        let day = d(day);
        let w = day.weekday().num_days_from_monday() as i64;
        let b = regression(
            &h,
            day,
            W,
            &Exclusions::default(),
            &BaselineConfig::default(),
        )
        .unwrap();
        let want: Vec<i64> = (0..24).map(|t| 100 + 10 * t + 7 * w).collect();
        assert_eq!(b.wh, want);
    }
}

#[test]
fn regression_uses_temperature_when_every_day_has_it() {
    // e = 500 + 20 θ with θ varying by day and interval: calendar alone
    // cannot predict the event day, temperature can
    let mut h = LoadHistory::new(60);
    let mut x = d("2026-06-01");
    let theta = |x: NaiveDate, t: usize| 20.0 + ((x.ordinal() as usize * 7 + t * 3) % 11) as f64;
    while x <= d("2026-07-15") {
        let temps: Vec<f64> = (0..24).map(|t| theta(x, t)).collect();
        h.insert(x, temps.iter().map(|c| (500.0 + 20.0 * c) as i64).collect())
            .unwrap();
        h.temperature_c.insert(x, temps);
        x += Duration::days(1);
    }
    let day = d(EVENT_DAY);
    let b = regression(
        &h,
        day,
        W,
        &Exclusions::default(),
        &BaselineConfig::default(),
    )
    .unwrap();
    assert_eq!(b.wh, h.days[&day]);
}

#[test]
fn a_window_outside_the_day_is_refused_by_field() {
    let h = five_days(100);
    let bad = Window {
        start_slot: 20,
        end_slot: 30,
    };
    let err = high_four_of_five(
        &h,
        d(EVENT_DAY),
        bad,
        &Exclusions::default(),
        &BaselineConfig::default(),
    )
    .unwrap_err();
    let DrError::Invalid(v) = err else {
        panic!("{err}")
    };
    assert_eq!(v.0[0].field, "window");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn baselines_never_panic_and_stay_non_negative(
        loads in proptest::collection::vec(proptest::collection::vec(0i64..2_000_000_000, 24), 5..40),
        start in 0usize..23,
        len in 1usize..6,
    ) {
        let mut h = LoadHistory::new(60);
        let first = d("2026-06-01");
        for (k, v) in loads.iter().enumerate() {
            h.insert(first + Duration::days(k as i64), v.clone()).unwrap();
        }
        let day = first + Duration::days(loads.len() as i64 - 1);
        let w = Window { start_slot: start, end_slot: (start + len).min(24) };
        for m in Method::ALL {
            match compute(m, &h, day, w, &Exclusions::default(), &BaselineConfig::default()) {
                Ok(b) => {
                    prop_assert_eq!(b.wh.len(), 24);
                    prop_assert!(b.wh.iter().all(|x| *x >= 0));
                }
                // 19 earlier days hold at least 13 weekdays: every method has enough
                Err(DrError::InsufficientHistory { .. }) => prop_assert!(loads.len() < 20, "{m}"),
                Err(e) => prop_assert!(false, "{m}: {e}"),
            }
        }
    }

    #[test]
    fn backtest_scores_are_finite_for_arbitrary_loads(
        loads in proptest::collection::vec(proptest::collection::vec(0i64..5_000_000, 24), 30..45),
        start in 6usize..20,
    ) {
        let mut h = LoadHistory::new(60);
        let first = d("2026-06-01");
        for (k, v) in loads.iter().enumerate() {
            h.insert(first + Duration::days(k as i64), v.clone()).unwrap();
        }
        let day = first + Duration::days(loads.len() as i64);
        let w = Window { start_slot: start, end_slot: start + 3 };
        let bt = voltex_dr::backtest::backtest(
            &h, day, w, &Exclusions::default(), &BaselineConfig::default(), &Method::ALL, 5,
        ).unwrap();
        for s in &bt.scores {
            prop_assert!(s.placebo_days > 0);
            prop_assert!(s.bias_wh.is_finite() && s.bias_pct.is_finite());
            prop_assert!(s.rrmse_pct.is_finite() && s.rrmse_pct >= 0.0);
            prop_assert!(s.energy_error_pct.is_finite());
        }
        prop_assert!(bt.expected_error_pct.is_finite());
    }
}

#[test]
fn mean_power_readings_become_whole_wh() {
    // 15-minute mean power 1 000 W = 250 Wh; 1 002 W = 250.5 -> 251 Wh
    let mut h = LoadHistory::new(15);
    let mut w = vec![1_000; 96];
    w[1] = 1_002;
    h.insert_mean_w(d(EVENT_DAY), &w).unwrap();
    assert_eq!(h.days[&d(EVENT_DAY)][..2], [250, 251]);
    assert!(h.insert_mean_w(d(EVENT_DAY), &w[..95]).is_err());
}
