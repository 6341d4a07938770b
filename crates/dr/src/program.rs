//! Demand-response programs: what kind of event a resource signs up for
//! and how it is paid (energy compensation per kWh delivered, capacity
//! payment per kW-month) and penalised (per kWh short of a performance
//! threshold).
//!
//! Must not: compute performance (that is `settlement`), nor hold events.
use serde::{Deserialize, Serialize};
use voltex_model::money::{Bp, Fen, PricePerKwh};
use voltex_model::{Violation, Violations};

use crate::resource::Direction;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramKind {
    /// Invitation (邀约型) to reduce load at the peak.
    PeakShaving,
    /// Invitation to raise load in the valley.
    ValleyFilling,
    /// Called by the system operator at short notice.
    Emergency,
    /// Events derived from day-ahead prices above a threshold.
    PriceResponsive,
}

impl ProgramKind {
    /// The direction of load change the program asks for.
    pub fn direction(self) -> Direction {
        match self {
            ProgramKind::ValleyFilling => Direction::Up,
            _ => Direction::Down,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub id: String,
    pub name: String,
    pub kind: ProgramKind,
    /// How long before an event's start it is notified.
    pub notification_lead_minutes: i64,
    /// Paid per kWh delivered (0.01 fen/kWh).
    pub compensation: PricePerKwh,
    /// Paid per kW of enrolled capacity per month, fen.
    pub capacity_fen_per_kw_month: Fen,
    /// Charged per kWh short of `performance_threshold × dispatched`.
    pub penalty: PricePerKwh,
    /// Performance ratio below which the penalty applies (8 000 = 80 %).
    pub performance_threshold: Bp,
}

impl Program {
    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Vec::new();
        if self.id.trim().is_empty() {
            v.push(Violation::new(
                "id",
                "required",
                "",
                "a program needs an id",
            ));
        }
        if self.notification_lead_minutes < 0 {
            v.push(Violation::new(
                "notification_lead_minutes",
                "non_negative",
                self.notification_lead_minutes,
                "an event cannot be notified after it starts",
            ));
        }
        if self.compensation.0 < 0 {
            v.push(Violation::new(
                "compensation",
                "non_negative",
                self.compensation.0,
                "compensation is paid to the resource, not charged",
            ));
        }
        if self.capacity_fen_per_kw_month.0 < 0 {
            v.push(Violation::new(
                "capacity_fen_per_kw_month",
                "non_negative",
                self.capacity_fen_per_kw_month.0,
                "a capacity payment cannot be negative",
            ));
        }
        if self.penalty.0 < 0 {
            v.push(Violation::new(
                "penalty",
                "non_negative",
                self.penalty.0,
                "a penalty price is a charge, write it positive",
            ));
        }
        if !(0..=10_000).contains(&self.performance_threshold.0) {
            v.push(Violation::new(
                "performance_threshold",
                "between_0_and_10000_bp",
                self.performance_threshold.0,
                "the threshold is a share of the dispatched energy, 0–100 %",
            ));
        }
        if v.is_empty() { Ok(()) } else { Err(v.into()) }
    }
}

#[cfg(test)]
pub(crate) fn example() -> Program {
    Program {
        id: "PS-2026".into(),
        name: "summer peak shaving".into(),
        kind: ProgramKind::PeakShaving,
        notification_lead_minutes: 24 * 60,
        compensation: PricePerKwh(30_000),
        capacity_fen_per_kw_month: Fen(500),
        penalty: PricePerKwh(10_000),
        performance_threshold: Bp(8_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_field_and_rule() {
        let mut p = example();
        p.performance_threshold = Bp(12_000);
        p.penalty = PricePerKwh(-1);
        let v = p.validate().unwrap_err();
        let got: Vec<&str> = v.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(got, ["penalty", "performance_threshold"]);
        assert_eq!(v.0[1].rule, "between_0_and_10000_bp");
        assert!(example().validate().is_ok());
    }

    #[test]
    fn valley_filling_asks_for_more_load() {
        assert_eq!(ProgramKind::ValleyFilling.direction(), Direction::Up);
        assert_eq!(ProgramKind::Emergency.direction(), Direction::Down);
    }
}
