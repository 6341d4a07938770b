//! Time-of-use tariff structure: which hour is peak, flat or valley, and the
//! seller's three prices. Pure data and its invariants; no optimisation here.

use crate::HOURS;

/// A tariff period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Peak,
    Flat,
    Valley,
}

/// The period of each hour of the day (hour h covers [h:00, h+1:00)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouSchedule {
    pub period_of_hour: [Period; HOURS],
}

impl TouSchedule {
    /// The schedule used throughout Voltex pricing (an interpretation, see
    /// docs/pricing.md): valley 23:00–07:00 (8 h), peak 08:00–11:00 and
    /// 17:00–21:00 (7 h), flat otherwise (9 h).
    pub fn standard() -> Self {
        let mut period_of_hour = [Period::Flat; HOURS];
        for (h, p) in period_of_hour.iter_mut().enumerate() {
            *p = if !(7..23).contains(&h) {
                Period::Valley
            } else if (8..11).contains(&h) || (17..21).contains(&h) {
                Period::Peak
            } else {
                Period::Flat
            };
        }
        Self { period_of_hour }
    }

    /// Hours belonging to a period.
    pub fn hours(&self, period: Period) -> Vec<usize> {
        (0..HOURS)
            .filter(|&h| self.period_of_hour[h] == period)
            .collect()
    }
}

/// A seller's three prices in yuan/kWh.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TouPrices {
    pub peak_per_kwh: f64,
    pub flat_per_kwh: f64,
    pub valley_per_kwh: f64,
}

impl TouPrices {
    pub fn new(peak_per_kwh: f64, flat_per_kwh: f64, valley_per_kwh: f64) -> Self {
        Self {
            peak_per_kwh,
            flat_per_kwh,
            valley_per_kwh,
        }
    }

    /// The same price in every period.
    pub fn flat_rate(price_per_kwh: f64) -> Self {
        Self::new(price_per_kwh, price_per_kwh, price_per_kwh)
    }

    pub fn price(&self, period: Period) -> f64 {
        match period {
            Period::Peak => self.peak_per_kwh,
            Period::Flat => self.flat_per_kwh,
            Period::Valley => self.valley_per_kwh,
        }
    }

    /// Hourly price vector p_t under a schedule.
    pub fn hourly(&self, schedule: &TouSchedule) -> [f64; HOURS] {
        let mut p = [0.0; HOURS];
        for (h, v) in p.iter_mut().enumerate() {
            *v = self.price(schedule.period_of_hour[h]);
        }
        p
    }

    /// Peak over valley price.
    pub fn peak_valley_ratio(&self) -> f64 {
        self.peak_per_kwh / self.valley_per_kwh
    }

    /// Largest absolute difference of the three prices.
    pub fn max_abs_difference(&self, other: &TouPrices) -> f64 {
        (self.peak_per_kwh - other.peak_per_kwh)
            .abs()
            .max((self.flat_per_kwh - other.flat_per_kwh).abs())
            .max((self.valley_per_kwh - other.valley_per_kwh).abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_schedule_has_8_valley_7_peak_9_flat_hours() {
        let s = TouSchedule::standard();
        assert_eq!(s.hours(Period::Valley).len(), 8);
        assert_eq!(s.hours(Period::Peak).len(), 7);
        assert_eq!(s.hours(Period::Flat).len(), 9);
        assert_eq!(s.period_of_hour[23], Period::Valley);
        assert_eq!(s.period_of_hour[18], Period::Peak);
        assert_eq!(s.period_of_hour[13], Period::Flat);
    }
}
