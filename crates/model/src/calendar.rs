//! Trading days and intervals in a market time zone.
//!
//! A trading day runs from local midnight to the next local midnight in the
//! market's zone, so its length is 24 h except on daylight-saving changes
//! (23 h or 25 h). Intervals have a fixed length in minutes and are counted
//! from the day's start instant, so a day has `length / interval` of them:
//! 96 × 15 min in Asia/Shanghai always, 92 or 100 on a DST day elsewhere.
//! All arithmetic goes through UTC instants, never through local wall-clock
//! sums, which is what keeps it right across days and DST changes.
//!
//! Trading days lie in the years [`TRADING_DAY_YEARS`]; the calendar answers
//! [`CalendarError::DayOutOfRange`] for any other day instead of computing
//! (or overflowing on) it, so a bad stored row can never make it panic.
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// A trading day, named by its local calendar date in the market time zone.
pub type TradingDay = NaiveDate;

/// The years a trading day may fall in: a market's sessions, declarations
/// and settlements are about days of this century and the next, never the
/// far ends of the date type.
pub const TRADING_DAY_YEARS: RangeInclusive<i32> = 2000..=2200;

/// Errors of calendar arithmetic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalendarError {
    #[error("interval length {0} min must divide a day (1440 min) and be between 1 and 60")]
    IntervalLength(u32),
    #[error("interval index {index} is outside trading day {day}, which has {count} intervals")]
    IndexOutOfDay {
        day: TradingDay,
        index: usize,
        count: usize,
    },
    #[error("unknown time zone '{0}' (use an IANA name such as Asia/Shanghai)")]
    UnknownZone(String),
    #[error(
        "trading day {0} is outside the years {start} to {end} a trading day may fall in",
        start = TRADING_DAY_YEARS.start(),
        end = TRADING_DAY_YEARS.end()
    )]
    DayOutOfRange(TradingDay),
    #[error("instant {0} is outside the trading days the calendar covers")]
    InstantOutOfRange(DateTime<Utc>),
}

/// Whether `day` may be a trading day (its year in [`TRADING_DAY_YEARS`]).
pub fn check_trading_day(day: TradingDay) -> Result<(), CalendarError> {
    if TRADING_DAY_YEARS.contains(&day.year()) {
        Ok(())
    } else {
        Err(CalendarError::DayOutOfRange(day))
    }
}

/// One interval of a trading day; `index` counts from 0 at the day's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Interval {
    pub day: TradingDay,
    pub index: usize,
}

/// The market's clock: its time zone and interval length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketCalendar {
    pub time_zone: Tz,
    pub interval_minutes: u32,
}

impl Default for MarketCalendar {
    /// China's provincial spot markets: Beijing time, 96 quarter-hours.
    fn default() -> Self {
        Self {
            time_zone: chrono_tz::Asia::Shanghai,
            interval_minutes: 15,
        }
    }
}

impl MarketCalendar {
    pub fn new(time_zone: &str, interval_minutes: u32) -> Result<Self, CalendarError> {
        let tz: Tz = time_zone
            .parse()
            .map_err(|_| CalendarError::UnknownZone(time_zone.to_owned()))?;
        if interval_minutes == 0 || interval_minutes > 60 || 1440 % interval_minutes != 0 {
            return Err(CalendarError::IntervalLength(interval_minutes));
        }
        Ok(Self {
            time_zone: tz,
            interval_minutes,
        })
    }

    pub fn interval_length(&self) -> Duration {
        Duration::minutes(i64::from(self.interval_minutes))
    }

    /// Intervals in a day without a DST change (96 for 15 min, 24 for 60 min).
    pub fn nominal_intervals_per_day(&self) -> usize {
        (1440 / self.interval_minutes) as usize
    }

    /// The instant the trading day starts: local midnight, or, where a DST
    /// gap swallows midnight, the first local instant that exists after it.
    pub fn day_start(&self, day: TradingDay) -> Result<DateTime<Utc>, CalendarError> {
        check_trading_day(day)?;
        self.local_midnight(day)
    }

    /// The instant the trading day ends: the next day's start.
    pub fn day_end(&self, day: TradingDay) -> Result<DateTime<Utc>, CalendarError> {
        check_trading_day(day)?;
        let next = day.succ_opt().ok_or(CalendarError::DayOutOfRange(day))?;
        self.local_midnight(next)
    }

    /// Local midnight of `day` as an instant (or the first instant after it
    /// that exists; a DST gap is shorter than a day).
    fn local_midnight(&self, day: TradingDay) -> Result<DateTime<Utc>, CalendarError> {
        let midnight = day.and_time(NaiveTime::MIN);
        (0..=1440)
            .filter_map(|m| midnight.checked_add_signed(Duration::minutes(m)))
            .find_map(|local| self.time_zone.from_local_datetime(&local).earliest())
            .map(|t| t.with_timezone(&Utc))
            .ok_or(CalendarError::DayOutOfRange(day))
    }

    /// Number of whole intervals in the day (a trailing part shorter than an
    /// interval, possible only with DST shifts that are not whole intervals,
    /// belongs to the last interval's successor and is not counted).
    pub fn interval_count(&self, day: TradingDay) -> Result<usize, CalendarError> {
        let len = (self.day_end(day)? - self.day_start(day)?).num_minutes();
        Ok((len / i64::from(self.interval_minutes)) as usize)
    }

    pub fn interval(&self, day: TradingDay, index: usize) -> Result<Interval, CalendarError> {
        let count = self.interval_count(day)?;
        if index >= count {
            return Err(CalendarError::IndexOutOfDay { day, index, count });
        }
        Ok(Interval { day, index })
    }

    pub fn start(&self, i: Interval) -> Result<DateTime<Utc>, CalendarError> {
        let offset = self.interval_length() * i32::try_from(i.index).unwrap_or(i32::MAX);
        self.day_start(i.day)?
            .checked_add_signed(offset)
            .ok_or(CalendarError::DayOutOfRange(i.day))
    }

    pub fn end(&self, i: Interval) -> Result<DateTime<Utc>, CalendarError> {
        self.start(i)?
            .checked_add_signed(self.interval_length())
            .ok_or(CalendarError::DayOutOfRange(i.day))
    }

    /// The interval containing an instant.
    pub fn interval_at(&self, instant: DateTime<Utc>) -> Result<Interval, CalendarError> {
        let out_of_range = || CalendarError::InstantOutOfRange(instant);
        // Far from the trading years the local date may not even exist.
        let years = TRADING_DAY_YEARS.start() - 1..=TRADING_DAY_YEARS.end() + 1;
        if !years.contains(&instant.year()) {
            return Err(out_of_range());
        }
        let mut day = instant.with_timezone(&self.time_zone).date_naive();
        if instant < self.day_start(day).map_err(|_| out_of_range())? {
            day = day.pred_opt().ok_or_else(out_of_range)?;
        }
        let count = self.interval_count(day)?;
        let idx = ((instant - self.day_start(day)?).num_seconds()
            / (i64::from(self.interval_minutes) * 60)) as usize;
        if idx >= count {
            // Only reachable in the sub-interval remainder of an odd DST day.
            let next = day.succ_opt().ok_or_else(out_of_range)?;
            check_trading_day(next)?;
            return Ok(Interval {
                day: next,
                index: 0,
            });
        }
        Ok(Interval { day, index: idx })
    }

    /// The interval `n` steps after (or before, for negative `n`) `i`, crossing days.
    pub fn add(&self, i: Interval, n: i64) -> Result<Interval, CalendarError> {
        let mut day = i.day;
        let mut idx = i.index as i64 + n;
        loop {
            if idx < 0 {
                day = day.pred_opt().ok_or(CalendarError::DayOutOfRange(day))?;
                idx += self.interval_count(day)? as i64;
                continue;
            }
            let count = self.interval_count(day)? as i64;
            if idx >= count {
                idx -= count;
                day = day.succ_opt().ok_or(CalendarError::DayOutOfRange(day))?;
                continue;
            }
            return Ok(Interval {
                day,
                index: idx as usize,
            });
        }
    }

    pub fn next(&self, i: Interval) -> Result<Interval, CalendarError> {
        self.add(i, 1)
    }

    pub fn prev(&self, i: Interval) -> Result<Interval, CalendarError> {
        self.add(i, -1)
    }

    /// Local wall-clock label of the interval's start, e.g. `2026-11-22 00:15 CST`.
    pub fn label(&self, i: Interval) -> Result<String, CalendarError> {
        Ok(self
            .start(i)?
            .with_timezone(&self.time_zone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> TradingDay {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn shanghai_day_has_96_quarter_hours_starting_at_local_midnight() {
        let cal = MarketCalendar::default();
        let day = d(2026, 11, 22);
        assert_eq!(cal.interval_count(day).unwrap(), 96);
        // 00:00 Beijing time is 16:00 UTC the day before.
        assert_eq!(
            cal.day_start(day).unwrap().to_rfc3339(),
            "2026-11-21T16:00:00+00:00"
        );
        assert_eq!(
            cal.label(Interval { day, index: 1 }).unwrap(),
            "2026-11-22 00:15 CST"
        );
    }

    #[test]
    fn hourly_calendar_has_24_intervals() {
        let cal = MarketCalendar::new("Asia/Shanghai", 60).unwrap();
        assert_eq!(cal.interval_count(d(2026, 3, 8)).unwrap(), 24);
    }

    #[test]
    fn spring_forward_day_is_one_hour_shorter() {
        let cal = MarketCalendar::new("America/New_York", 15).unwrap();
        assert_eq!(cal.interval_count(d(2026, 3, 8)).unwrap(), 92);
        assert_eq!(cal.interval_count(d(2026, 11, 1)).unwrap(), 100);
        assert_eq!(cal.interval_count(d(2026, 11, 2)).unwrap(), 96);
    }

    #[test]
    fn interval_after_last_of_day_is_first_of_next_day() {
        let cal = MarketCalendar::new("Europe/Berlin", 15).unwrap();
        let day = d(2026, 10, 25); // 25-hour day
        let last = cal.interval(day, 99).unwrap();
        assert_eq!(
            cal.next(last).unwrap(),
            Interval {
                day: d(2026, 10, 26),
                index: 0
            }
        );
        assert_eq!(
            cal.prev(Interval {
                day: d(2026, 10, 26),
                index: 0
            })
            .unwrap(),
            last
        );
        assert_eq!(
            cal.end(last).unwrap(),
            cal.day_start(d(2026, 10, 26)).unwrap()
        );
    }

    #[test]
    fn rejects_interval_length_that_does_not_divide_a_day() {
        assert_eq!(
            MarketCalendar::new("Asia/Shanghai", 7),
            Err(CalendarError::IntervalLength(7))
        );
        assert!(matches!(
            MarketCalendar::new("Mars/Olympus", 15),
            Err(CalendarError::UnknownZone(_))
        ));
    }

    #[test]
    fn rejects_index_beyond_the_day() {
        let cal = MarketCalendar::default();
        assert!(matches!(
            cal.interval(d(2026, 1, 1), 96),
            Err(CalendarError::IndexOutOfDay { count: 96, .. })
        ));
    }

    #[test]
    fn days_outside_the_trading_years_are_refused_not_computed() {
        let cal = MarketCalendar::default();
        for day in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            d(1999, 12, 31),
            d(2201, 1, 1),
        ] {
            assert_eq!(
                check_trading_day(day),
                Err(CalendarError::DayOutOfRange(day))
            );
            assert_eq!(cal.day_start(day), Err(CalendarError::DayOutOfRange(day)));
            assert_eq!(cal.day_end(day), Err(CalendarError::DayOutOfRange(day)));
            assert_eq!(
                cal.interval_count(day),
                Err(CalendarError::DayOutOfRange(day))
            );
            assert!(cal.interval(day, 0).is_err());
            assert!(cal.label(Interval { day, index: 0 }).is_err());
            assert!(cal.add(Interval { day, index: 0 }, 1).is_err());
        }
        assert!(
            cal.interval_at(DateTime::<Utc>::MAX_UTC).is_err()
                && cal.interval_at(DateTime::<Utc>::MIN_UTC).is_err()
        );
        // The ends of the range are ordinary days.
        assert_eq!(cal.interval_count(d(2000, 1, 1)), Ok(96));
        assert_eq!(cal.interval_count(d(2200, 12, 31)), Ok(96));
        // Stepping past the range's end is refused, not wrapped.
        let last = cal.interval(d(2200, 12, 31), 95).unwrap();
        assert!(cal.next(last).is_err());
        assert!(cal.prev(cal.interval(d(2000, 1, 1), 0).unwrap()).is_err());
        let e = check_trading_day(d(2201, 1, 1)).unwrap_err().to_string();
        assert!(e.contains("2000") && e.contains("2200"), "{e}");
    }

    proptest! {
        #[test]
        fn interval_arithmetic_is_consistent_in_every_zone(
            zone in prop::sample::select(vec!["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago"]),
            minutes in prop::sample::select(vec![5u32, 15, 30, 60]),
            day_offset in 0i64..1500,
            index_frac in 0.0f64..1.0,
            steps in -500i64..500,
        ) {
            let cal = MarketCalendar::new(zone, minutes).unwrap();
            let day = d(2024, 1, 1) + Duration::days(day_offset);
            let count = cal.interval_count(day).unwrap();
            prop_assert!(count > 0);
            let i = cal.interval(day, ((count as f64) * index_frac) as usize).unwrap();
            // the interval containing an interval's start is that interval
            prop_assert_eq!(cal.interval_at(cal.start(i).unwrap()).unwrap(), i);
            // consecutive intervals touch
            prop_assert_eq!(cal.start(cal.next(i).unwrap()).unwrap(), cal.end(i).unwrap());
            // stepping is invertible and moves by exact elapsed time
            let j = cal.add(i, steps).unwrap();
            prop_assert_eq!(cal.add(j, -steps).unwrap(), i);
            prop_assert_eq!(
                cal.start(j).unwrap() - cal.start(i).unwrap(),
                cal.interval_length() * (steps as i32)
            );
        }
    }
}
