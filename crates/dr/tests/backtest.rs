//! The placebo back-test picks the method that is exact on a series built
//! to favour it, and reports that method's (near-zero) error.
use chrono::{Datelike, Duration, NaiveDate};
use voltex_dr::backtest::backtest;
use voltex_dr::baseline::{BaselineConfig, Exclusions, LoadHistory, Method, Window};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Hourly days from 2026-04-01 to 2026-07-15 with `e(day index, weekday, t)`.
fn series(e: impl Fn(i64, i64, usize) -> i64) -> LoadHistory {
    let mut h = LoadHistory::new(60);
    let mut x = d("2026-04-01");
    let mut k = 0;
    while x <= d("2026-07-15") {
        let w = x.weekday().num_days_from_monday() as i64;
        h.insert(x, (0..24).map(|t| e(k, w, t)).collect()).unwrap();
        x += Duration::days(1);
        k += 1;
    }
    h
}

/// A daily level that wanders within ±9 % of 100 with no weekly pattern.
fn level(k: i64) -> i64 {
    91 + (k * 37 + 11) % 19
}

fn shape(t: usize) -> i64 {
    1_000 + 400 * ((t as i64 - 12).abs())
}

const AFTERNOON: Window = Window {
    start_slot: 14,
    end_slot: 18,
};

fn run(h: &LoadHistory, w: Window) -> voltex_dr::backtest::Backtest {
    backtest(
        h,
        d("2026-07-15"),
        w,
        &Exclusions::default(),
        &BaselineConfig::default(),
        &Method::ALL,
        20,
    )
    .unwrap()
}

#[test]
fn multiplicative_day_levels_favour_the_ratio_adjusted_ten_in_ten() {
    // e = shape × level / 100: the day-of ratio recovers the level exactly
    // (within ±20 %, so the cap never bites); an additive shift cannot
    let h = series(|k, _, t| shape(t) * level(k) / 100 * 100);
    let bt = run(&h, AFTERNOON);
    assert_eq!(bt.chosen, Method::TenInTen, "{:#?}", bt.scores);
    assert!(bt.expected_error_pct < 0.1, "{}", bt.expected_error_pct);
    assert_eq!(bt.scores.len(), 4);
    assert_eq!(bt.scores[0].placebo_days, 20);
    let pjm = bt.score(Method::HighFourOfFive).unwrap();
    assert!(pjm.rrmse_pct > 1.0, "{pjm:?}");
}

#[test]
fn additive_day_levels_favour_the_additively_adjusted_high_four_of_five() {
    // e = shape + 30 × level: the additive adjustment recovers the shift
    // exactly; a ratio scales the shape and misses
    let h = series(|k, _, t| shape(t) + 30 * level(k));
    let bt = run(&h, AFTERNOON);
    assert_eq!(bt.chosen, Method::HighFourOfFive, "{:#?}", bt.scores);
    assert!(bt.expected_error_pct < 0.01);
    assert!(bt.score(Method::TenInTen).unwrap().rrmse_pct > 0.1);
}

#[test]
fn a_weekday_pattern_with_an_early_event_favours_the_regression() {
    // e = shape + 150 × weekday: averages over mixed weekdays miss the
    // day's own level, and an event at 01:00–03:00 leaves no hours before
    // it to adjust on; the calendar regression holds the pattern exactly
    let h = series(|_, w, t| shape(t) + 150 * w);
    let early = Window {
        start_slot: 1,
        end_slot: 3,
    };
    let bt = run(&h, early);
    assert_eq!(bt.chosen, Method::Regression, "{:#?}", bt.scores);
    assert!(bt.expected_error_pct < 0.01);
    let hx = bt.score(Method::HighXOfY).unwrap();
    assert!(
        hx.bias_pct > 0.5,
        "high 5 of 10 picks the heavy weekdays: {hx:?}"
    );
}

#[test]
fn bias_is_signed_and_in_wh_per_event() {
    // a load that grows 1 % a day: every backward-looking average lags,
    // so the unadjusted high 5 of 10 underestimates (negative bias)
    let h = series(|k, _, t| shape(t) * (100 + k) / 100);
    let bt = run(&h, AFTERNOON);
    let hx = bt.score(Method::HighXOfY).unwrap();
    assert!(hx.bias_wh < 0.0 && hx.bias_pct < 0.0, "{hx:?}");
}
