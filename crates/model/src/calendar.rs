//! Trading days and intervals in a market time zone.
//!
//! A trading day runs from local midnight to the next local midnight in the
//! market's zone, so its length is 24 h except on daylight-saving changes
//! (23 h or 25 h). Intervals have a fixed length in minutes and are counted
//! from the day's start instant, so a day has `length / interval` of them:
//! 96 × 15 min in Asia/Shanghai always, 92 or 100 on a DST day elsewhere.
//! All arithmetic goes through UTC instants, never through local wall-clock
//! sums, which is what keeps it right across days and DST changes.
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A trading day, named by its local calendar date in the market time zone.
pub type TradingDay = NaiveDate;

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
    pub fn day_start(&self, day: TradingDay) -> DateTime<Utc> {
        let mut local = day.and_time(NaiveTime::MIN);
        loop {
            if let Some(t) = self.time_zone.from_local_datetime(&local).earliest() {
                return t.with_timezone(&Utc);
            }
            local += Duration::minutes(1);
        }
    }

    pub fn day_end(&self, day: TradingDay) -> DateTime<Utc> {
        self.day_start(day.succ_opt().expect("trading day within chrono's range"))
    }

    /// Number of whole intervals in the day (a trailing part shorter than an
    /// interval, possible only with DST shifts that are not whole intervals,
    /// belongs to the last interval's successor and is not counted).
    pub fn interval_count(&self, day: TradingDay) -> usize {
        let len = (self.day_end(day) - self.day_start(day)).num_minutes();
        (len / i64::from(self.interval_minutes)) as usize
    }

    pub fn interval(&self, day: TradingDay, index: usize) -> Result<Interval, CalendarError> {
        let count = self.interval_count(day);
        if index >= count {
            return Err(CalendarError::IndexOutOfDay { day, index, count });
        }
        Ok(Interval { day, index })
    }

    pub fn start(&self, i: Interval) -> DateTime<Utc> {
        self.day_start(i.day) + self.interval_length() * (i.index as i32)
    }

    pub fn end(&self, i: Interval) -> DateTime<Utc> {
        self.start(i) + self.interval_length()
    }

    /// The interval containing an instant.
    pub fn interval_at(&self, instant: DateTime<Utc>) -> Interval {
        let mut day = instant.with_timezone(&self.time_zone).date_naive();
        if instant < self.day_start(day) {
            day = day.pred_opt().expect("date within chrono's range");
        }
        let count = self.interval_count(day);
        let idx = ((instant - self.day_start(day)).num_seconds()
            / (i64::from(self.interval_minutes) * 60)) as usize;
        if idx >= count {
            // Only reachable in the sub-interval remainder of an odd DST day.
            let next = day.succ_opt().expect("date within chrono's range");
            return Interval {
                day: next,
                index: 0,
            };
        }
        Interval { day, index: idx }
    }

    /// The interval `n` steps after (or before, for negative `n`) `i`, crossing days.
    pub fn add(&self, i: Interval, n: i64) -> Interval {
        let mut day = i.day;
        let mut idx = i.index as i64 + n;
        loop {
            if idx < 0 {
                day = day.pred_opt().expect("date within chrono's range");
                idx += self.interval_count(day) as i64;
                continue;
            }
            let count = self.interval_count(day) as i64;
            if idx >= count {
                idx -= count;
                day = day.succ_opt().expect("date within chrono's range");
                continue;
            }
            return Interval {
                day,
                index: idx as usize,
            };
        }
    }

    pub fn next(&self, i: Interval) -> Interval {
        self.add(i, 1)
    }

    pub fn prev(&self, i: Interval) -> Interval {
        self.add(i, -1)
    }

    /// Local wall-clock label of the interval's start, e.g. `2026-11-22 00:15 CST`.
    pub fn label(&self, i: Interval) -> String {
        self.start(i)
            .with_timezone(&self.time_zone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
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
        assert_eq!(cal.interval_count(day), 96);
        // 00:00 Beijing time is 16:00 UTC the day before.
        assert_eq!(cal.day_start(day).to_rfc3339(), "2026-11-21T16:00:00+00:00");
        assert_eq!(
            cal.label(Interval { day, index: 1 }),
            "2026-11-22 00:15 CST"
        );
    }

    #[test]
    fn hourly_calendar_has_24_intervals() {
        let cal = MarketCalendar::new("Asia/Shanghai", 60).unwrap();
        assert_eq!(cal.interval_count(d(2026, 3, 8)), 24);
    }

    #[test]
    fn spring_forward_day_is_one_hour_shorter() {
        let cal = MarketCalendar::new("America/New_York", 15).unwrap();
        assert_eq!(cal.interval_count(d(2026, 3, 8)), 92);
        assert_eq!(cal.interval_count(d(2026, 11, 1)), 100);
        assert_eq!(cal.interval_count(d(2026, 11, 2)), 96);
    }

    #[test]
    fn interval_after_last_of_day_is_first_of_next_day() {
        let cal = MarketCalendar::new("Europe/Berlin", 15).unwrap();
        let day = d(2026, 10, 25); // 25-hour day
        let last = cal.interval(day, 99).unwrap();
        assert_eq!(
            cal.next(last),
            Interval {
                day: d(2026, 10, 26),
                index: 0
            }
        );
        assert_eq!(
            cal.prev(Interval {
                day: d(2026, 10, 26),
                index: 0
            }),
            last
        );
        assert_eq!(cal.end(last), cal.day_start(d(2026, 10, 26)));
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
            let count = cal.interval_count(day);
            prop_assert!(count > 0);
            let i = cal.interval(day, ((count as f64) * index_frac) as usize).unwrap();
            // the interval containing an interval's start is that interval
            prop_assert_eq!(cal.interval_at(cal.start(i)), i);
            // consecutive intervals touch
            prop_assert_eq!(cal.start(cal.next(i)), cal.end(i));
            // stepping is invertible and moves by exact elapsed time
            let j = cal.add(i, steps);
            prop_assert_eq!(cal.add(j, -steps), i);
            prop_assert_eq!(cal.start(j) - cal.start(i), cal.interval_length() * (steps as i32));
        }
    }
}
