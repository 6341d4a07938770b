//! The billing month (`YYYY-MM`) and the 15-minute intervals of it, in the
//! customer's local wall-clock time (China has no daylight-saving time, so
//! every day has 96 intervals). Interval `i` of a month starts at
//! `i × 15` minutes after local midnight of its first day.
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// 15-minute intervals in a day.
pub const SLOTS_PER_DAY: usize = 96;

/// The day after today on China's wall clock (UTC+8, no daylight saving):
/// the default forecast day, and the default end of a report's history.
pub fn china_tomorrow(now: DateTime<Utc>) -> NaiveDate {
    (now + chrono::Duration::hours(8)).date_naive() + chrono::Days::new(1)
}

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    pub year: i32,
    /// 1..=12
    pub month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (1900..=2999).contains(&year))
            .then_some(Month { year, month })
    }

    pub fn of(d: NaiveDate) -> Self {
        Month {
            year: d.year(),
            month: d.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Months from `self` to `later` (0 when equal; negative before).
    pub fn months_until(self, later: Month) -> i32 {
        (later.year - self.year) * 12 + later.month as i32 - self.month as i32
    }

    pub fn days(self) -> usize {
        (self.next().first_day() - self.first_day()).num_days() as usize
    }

    pub fn slots(self) -> usize {
        self.days() * SLOTS_PER_DAY
    }

    /// The slot of a local interval start inside this month, if it is on a
    /// 15-minute boundary inside the month.
    pub fn slot_of(self, start: NaiveDateTime) -> Option<usize> {
        if Month::of(start.date()) != self
            || !start.minute().is_multiple_of(15)
            || start.second() != 0
        {
            return None;
        }
        let day = (start.date() - self.first_day()).num_days() as usize;
        Some(day * SLOTS_PER_DAY + start.hour() as usize * 4 + start.minute() as usize / 15)
    }

    /// Local start of slot `i`.
    pub fn slot_start(self, i: usize) -> NaiveDateTime {
        let day = self.first_day() + chrono::Days::new((i / SLOTS_PER_DAY) as u64);
        let minutes = (i % SLOTS_PER_DAY) as u32 * 15;
        day.and_hms_opt(minutes / 60, minutes % 60, 0)
            .expect("a valid time")
    }

    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for Month {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Month::parse(&s).ok_or_else(|| format!("{s:?} is not a month (YYYY-MM)"))
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_map_to_local_interval_starts_and_back() {
        let m = Month::parse("2026-07").unwrap();
        assert_eq!(m.days(), 31);
        assert_eq!(m.slots(), 2976);
        let t = NaiveDate::from_ymd_opt(2026, 7, 2)
            .unwrap()
            .and_hms_opt(1, 45, 0)
            .unwrap();
        assert_eq!(m.slot_of(t), Some(96 + 7));
        assert_eq!(m.slot_start(103), t);
        assert_eq!(m.slot_of(t + chrono::Duration::minutes(5)), None);
        assert_eq!(Month::parse("2026-08").unwrap().slot_of(t), None);
    }

    #[test]
    fn months_parse_strictly_and_step() {
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(Month::parse("26-01"), None);
        let d = Month::parse("2026-12").unwrap();
        assert_eq!(d.next().to_string(), "2027-01");
        assert_eq!(d.months_until(Month::parse("2027-02").unwrap()), 2);
        assert_eq!(Month::parse("2028-02").unwrap().days(), 29);
    }

    #[test]
    fn china_tomorrow_turns_at_utc_four_pm() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(china_tomorrow(at("2026-12-07T15:59:59Z")), d("2026-12-08"));
        assert_eq!(china_tomorrow(at("2026-12-07T16:00:00Z")), d("2026-12-09"));
    }
}
