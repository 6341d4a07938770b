//! Market parameters: the data that validation reads (price floor and cap,
//! declaration window, interval length, maximum offer segments). They are
//! versioned in the store like everything else; a session is validated
//! against the version current when the declaration arrives.
use crate::calendar::{CalendarError, MarketCalendar, TradingDay};
use crate::error::{Violation, Violations};
use crate::market::MarketKind;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Hard limit of the declaration format: at most 10 price–quantity segments.
pub const MAX_SEGMENTS_LIMIT: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarketParameters {
    pub market: MarketKind,
    /// Lowest price a declaration may carry (yuan/MWh; yuan/MW of mileage for
    /// frequency regulation).
    pub price_floor: f64,
    /// Highest price a declaration may carry, same unit as the floor.
    pub price_cap: f64,
    /// When the declaration window opens, in minutes relative to the start of
    /// the trading day (negative: before it, e.g. -1440 = D-1 00:00).
    pub window_open_offset_min: i64,
    /// When the gate closes, in minutes relative to the start of the trading day.
    pub window_close_offset_min: i64,
    /// IANA time zone of the market clock.
    pub time_zone: String,
    /// Interval length in minutes (15 → 96 intervals a day, 60 → 24).
    pub interval_minutes: u32,
    /// Most price–quantity segments in one curve (1..=10).
    pub max_segments: usize,
    /// Plausibility band for operator review: an offer whose
    /// quantity-weighted mean price differs from the same member's last
    /// accepted offer for the same subject by more than this fraction (0.5 =
    /// ±50 %) is held for the operator's approval. `None`: no review.
    #[serde(default)]
    pub review_price_band: Option<f64>,
}

impl MarketParameters {
    /// Defaults modelled on China's provincial spot-market rules: energy
    /// 0–1500 yuan/MWh, day-ahead window D-1 00:00 to D-1 10:00 Beijing time,
    /// 96 quarter-hours, up to 10 segments.
    pub fn default_for(market: MarketKind) -> Self {
        let (floor, cap, open, close) = match market {
            MarketKind::DayAheadEnergy => (0.0, 1500.0, -1440, -840),
            // Real-time offers are declared on D-1 after the day-ahead gate.
            MarketKind::RealTimeEnergy => (0.0, 1500.0, -840, -360),
            // Mileage price, yuan per MW of regulation mileage.
            MarketKind::FrequencyRegulation => (0.0, 15.0, -1440, -840),
            // Deep peak-regulation compensation, yuan/MWh.
            MarketKind::PeakRegulation => (0.0, 400.0, -1440, -840),
        };
        Self {
            market,
            price_floor: floor,
            price_cap: cap,
            window_open_offset_min: open,
            window_close_offset_min: close,
            time_zone: "Asia/Shanghai".into(),
            interval_minutes: 15,
            max_segments: MAX_SEGMENTS_LIMIT,
            review_price_band: Some(0.5),
        }
    }

    pub fn calendar(&self) -> MarketCalendar {
        // Validated parameters always have a good zone and interval.
        MarketCalendar::new(&self.time_zone, self.interval_minutes).unwrap_or_default()
    }

    /// The declaration window of a trading day, as UTC instants; a day
    /// outside the trading years (or offsets beyond any date) is an error.
    pub fn window(&self, day: TradingDay) -> Result<(DateTime<Utc>, DateTime<Utc>), CalendarError> {
        let start = self.calendar().day_start(day)?;
        let at = |offset_min: i64| {
            Duration::try_minutes(offset_min)
                .and_then(|d| start.checked_add_signed(d))
                .ok_or(CalendarError::DayOutOfRange(day))
        };
        Ok((
            at(self.window_open_offset_min)?,
            at(self.window_close_offset_min)?,
        ))
    }

    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Violations::default();
        if !(self.price_floor.is_finite() && self.price_cap.is_finite())
            || self.price_floor >= self.price_cap
        {
            v.push(Violation::new(
                "price_cap",
                "cap_above_floor",
                self.price_cap,
                format!(
                    "price cap {} must exceed floor {}",
                    self.price_cap, self.price_floor
                ),
            ));
        }
        if self.window_open_offset_min >= self.window_close_offset_min {
            v.push(Violation::new(
                "window_close_offset_min",
                "close_after_open",
                self.window_close_offset_min,
                "the gate must close after the window opens",
            ));
        }
        if !(1..=MAX_SEGMENTS_LIMIT).contains(&self.max_segments) {
            v.push(Violation::new(
                "max_segments",
                "within_1_10",
                self.max_segments,
                "maximum segments must be between 1 and 10",
            ));
        }
        if let Some(band) = self.review_price_band
            && !(band.is_finite() && band > 0.0)
        {
            v.push(Violation::new(
                "review_price_band",
                "positive",
                band,
                "the review band must be a positive fraction (0.5 = ±50 %)",
            ));
        }
        if let Err(e) = MarketCalendar::new(&self.time_zone, self.interval_minutes) {
            let (field, value) = match e {
                crate::calendar::CalendarError::UnknownZone(_) => {
                    ("time_zone", serde_json::Value::from(self.time_zone.clone()))
                }
                _ => (
                    "interval_minutes",
                    serde_json::Value::from(self.interval_minutes),
                ),
            };
            v.push(Violation::new(
                field,
                "valid_calendar",
                value,
                e.to_string(),
            ));
        }
        v.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn defaults_are_valid_for_every_market() {
        for m in MarketKind::ALL {
            MarketParameters::default_for(m).validate().unwrap();
        }
    }

    #[test]
    fn day_ahead_gate_closes_at_ten_the_day_before() {
        let p = MarketParameters::default_for(MarketKind::DayAheadEnergy);
        let (open, close) = p
            .window(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
            .unwrap();
        // Beijing 2026-11-21 00:00 and 10:00 are 16:00 and 02:00 UTC.
        assert_eq!(open.to_rfc3339(), "2026-11-20T16:00:00+00:00");
        assert_eq!(close.to_rfc3339(), "2026-11-21T02:00:00+00:00");
    }

    #[test]
    fn the_window_of_a_day_outside_the_trading_years_is_an_error_not_a_panic() {
        let mut p = MarketParameters::default_for(MarketKind::RealTimeEnergy);
        for day in [NaiveDate::MIN, NaiveDate::MAX] {
            assert_eq!(p.window(day), Err(CalendarError::DayOutOfRange(day)));
        }
        // Offsets that no date can hold are refused as well.
        p.window_close_offset_min = i64::MAX;
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert!(p.window(day).is_err());
    }

    #[test]
    fn rejects_cap_below_floor_and_too_many_segments() {
        let mut p = MarketParameters::default_for(MarketKind::DayAheadEnergy);
        p.price_cap = -5.0;
        p.max_segments = 11;
        p.interval_minutes = 7;
        let e = p.validate().unwrap_err();
        assert!(e.has("price_cap", "cap_above_floor"));
        assert!(e.has("max_segments", "within_1_10"));
        assert!(e.has("interval_minutes", "valid_calendar"));
    }
}
