//! A customer's stored meter-months as a [`LoadHistory`] for the forecasts
//! and the energy report: whole days only, and only days every meter read.
//!
//! Must not: touch the store (the service passes the meter-months in).
use chrono::{Days, NaiveDate};

use super::forecast::{LoadHistory, SLOTS};
use crate::month::Month;
use crate::readings::{MeterMonth, Quality};

/// The 96 intervals of `date` summed over `meters` (kWh), when every meter
/// read every one of them.
fn day_kwh<'a>(
    meters: &[&str],
    get: &impl Fn(&str, Month) -> Option<&'a MeterMonth>,
    date: NaiveDate,
) -> Option<Vec<f64>> {
    let month = Month::of(date);
    let first = (date - month.first_day()).num_days() as usize * SLOTS;
    let mut kwh = vec![0.0; SLOTS];
    for m in meters {
        let r = get(m, month)?;
        let codes = r.quality.as_bytes().get(first..first + SLOTS)?;
        if codes.iter().any(|&c| c as char == Quality::Missing.code()) {
            return None;
        }
        for (k, wh) in kwh.iter_mut().zip(&r.wh[first..first + SLOTS]) {
            *k += *wh as f64 / 1000.0;
        }
    }
    Some(kwh)
}

/// The longest run of complete days that ends on the day before `before`
/// — or on the day before that, since the day before a forecast day may
/// not be read yet — at most `max_days` long: each day's 96 intervals
/// summed over `meters`, in kWh. A day is complete when every meter has a
/// value (actual, estimated or corrected) in each of its intervals; a gap
/// ends the run, so the history never bridges missing data. `get` answers
/// a meter's stored month. `None` when neither of the two last days is
/// complete.
pub fn complete_history<'a>(
    meters: &[&str],
    get: impl Fn(&str, Month) -> Option<&'a MeterMonth>,
    before: NaiveDate,
    max_days: usize,
) -> Option<LoadHistory> {
    if meters.is_empty() || max_days == 0 {
        return None;
    }
    let dated = |n: u64| {
        let date = before.checked_sub_days(Days::new(n))?;
        day_kwh(meters, &get, date).map(|k| (date, k))
    };
    // the last complete day: the day before `before`, else the one before
    let (mut last, newest) = dated(1).or_else(|| dated(2))?;
    let mut days = vec![newest];
    while days.len() < max_days {
        let Some(prev) = last.checked_sub_days(Days::new(1)) else {
            break;
        };
        let Some(k) = day_kwh(meters, &get, prev) else {
            break;
        };
        days.push(k);
        last = prev;
    }
    days.reverse();
    Some(LoadHistory {
        start: last,
        kwh: days.concat(),
    })
}

/// The last complete day before `before`, looking back at most
/// `look_back` days: where a report's history ends when the readings
/// stop short of today.
pub fn last_complete_day<'a>(
    meters: &[&str],
    get: impl Fn(&str, Month) -> Option<&'a MeterMonth>,
    before: NaiveDate,
    look_back: u64,
) -> Option<NaiveDate> {
    if meters.is_empty() {
        return None;
    }
    (1..=look_back)
        .filter_map(|n| before.checked_sub_days(Days::new(n)))
        .find(|&d| day_kwh(meters, &get, d).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::MeteringPoint;
    use std::collections::HashMap;

    fn meter(id: &str) -> MeteringPoint {
        MeteringPoint {
            id: id.into(),
            customer_id: "C1".into(),
            retailer_id: "ret1".into(),
            multiplier: 1,
            interval_minutes: 15,
        }
    }

    /// A month of `wh` per interval, read up to (not including) `read_until`.
    fn month(id: &str, m: &str, wh: i64, read_until: usize) -> MeterMonth {
        let mut r = MeterMonth::empty(&meter(id), Month::parse(m).unwrap());
        for i in 0..read_until.min(r.wh.len()) {
            r.wh[i] = wh;
        }
        let n = r.wh.len();
        r.quality = "A".repeat(read_until.min(n)) + &"-".repeat(n - read_until.min(n));
        r
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn two_meters_sum_and_a_gap_in_either_ends_the_history() {
        let mut book: HashMap<(String, Month), MeterMonth> = HashMap::new();
        for (id, wh) in [("M1", 1000), ("M2", 500)] {
            for m in ["2026-06", "2026-07"] {
                book.insert(
                    (id.into(), Month::parse(m).unwrap()),
                    month(id, m, wh, 31 * SLOTS),
                );
            }
        }
        // M2 missed one interval on 10 July
        let july = Month::parse("2026-07").unwrap();
        let r = book.get_mut(&("M2".into(), july)).unwrap();
        r.quality.replace_range(9 * SLOTS + 5..9 * SLOTS + 6, "-");
        let get = |m: &str, mo: Month| book.get(&(m.to_owned(), mo));
        let h = complete_history(&["M1", "M2"], get, date("2026-07-20"), 60).unwrap();
        assert_eq!(h.start, date("2026-07-11"));
        assert_eq!(h.days(), 9); // 11 … 19 July
        assert!(h.kwh.iter().all(|&k| (k - 1.5).abs() < 1e-12));
        // without the gap the history crosses into June, up to max_days
        let h = complete_history(&["M1"], get, date("2026-07-20"), 30).unwrap();
        assert_eq!(h.days(), 30);
        assert_eq!(h.start, date("2026-06-20"));
    }

    #[test]
    fn the_day_before_the_target_may_be_unread_but_not_two() {
        let mut book: HashMap<(String, Month), MeterMonth> = HashMap::new();
        // July read through the 18th: the 19th and later are missing
        book.insert(
            ("M1".into(), Month::parse("2026-07").unwrap()),
            month("M1", "2026-07", 250, 18 * SLOTS),
        );
        let get = |m: &str, mo: Month| book.get(&(m.to_owned(), mo));
        let h = complete_history(&["M1"], get, date("2026-07-20"), 60).unwrap();
        assert_eq!(h.date(h.days() - 1), date("2026-07-18"));
        assert_eq!(h.days(), 18);
        assert!(complete_history(&["M1"], get, date("2026-07-21"), 60).is_none());
        assert_eq!(
            last_complete_day(&["M1"], get, date("2026-12-08"), 400),
            Some(date("2026-07-18"))
        );
        assert_eq!(
            last_complete_day(&["M1"], get, date("2026-12-08"), 30),
            None
        );
        assert!(complete_history(&[], get, date("2026-07-20"), 60).is_none());
    }
}
