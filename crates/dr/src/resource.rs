//! Demand-response resources (a customer's curtailable or shiftable load at
//! one metering point) and the portfolio an aggregator or retailer enrols.
//! Validation lists every broken rule.
//!
//! Must not: hold program terms (that is `program`), nor any event state.
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use voltex_model::{Violation, Violations};

/// Which way a resource moves its load when dispatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Reduces load (peak shaving, emergency): delivered = baseline − actual.
    Down,
    /// Increases load (valley filling): delivered = actual − baseline.
    Up,
}

/// One resource as enrolled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub id: String,
    pub customer_id: String,
    /// The metering point whose interval load the baseline is computed on.
    pub metering_point: String,
    /// Curtailable (or absorbable) capacity, kW.
    pub capacity_kw: i64,
    pub direction: Direction,
    /// The least notice the resource needs between notification and start.
    pub min_notice_minutes: i64,
    /// The longest event the resource can hold.
    pub max_duration_minutes: i64,
    pub max_events_per_month: u32,
    /// How often the resource's meter reports (5, 15, 30 or 60 min).
    pub telemetry_interval_minutes: u32,
}

impl Resource {
    /// Every broken rule, each naming the field (prefixed with `at`).
    pub fn violations(&self, at: &str) -> Vec<Violation> {
        let mut v = Vec::new();
        let f = |name: &str| format!("{at}{name}");
        if self.id.trim().is_empty() {
            v.push(Violation::new(
                f("id"),
                "required",
                "",
                "a resource needs an id",
            ));
        }
        if self.customer_id.trim().is_empty() {
            v.push(Violation::new(
                f("customer_id"),
                "required",
                "",
                "a resource belongs to a customer",
            ));
        }
        if self.metering_point.trim().is_empty() {
            v.push(Violation::new(
                f("metering_point"),
                "required",
                "",
                "the baseline needs the metering point's readings",
            ));
        }
        if self.capacity_kw <= 0 {
            v.push(Violation::new(
                f("capacity_kw"),
                "positive",
                self.capacity_kw,
                "capacity must be above 0 kW",
            ));
        }
        if self.min_notice_minutes < 0 {
            v.push(Violation::new(
                f("min_notice_minutes"),
                "non_negative",
                self.min_notice_minutes,
                "notice cannot be negative",
            ));
        }
        if self.max_duration_minutes <= 0 {
            v.push(Violation::new(
                f("max_duration_minutes"),
                "positive",
                self.max_duration_minutes,
                "a resource must hold an event for some minutes",
            ));
        }
        if self.max_events_per_month == 0 {
            v.push(Violation::new(
                f("max_events_per_month"),
                "positive",
                0,
                "a resource that takes no event cannot be enrolled",
            ));
        }
        if ![5, 15, 30, 60].contains(&self.telemetry_interval_minutes) {
            v.push(Violation::new(
                f("telemetry_interval_minutes"),
                "one_of_5_15_30_60",
                self.telemetry_interval_minutes,
                "meters report every 5, 15, 30 or 60 minutes",
            ));
        }
        v
    }

    pub fn validate(&self) -> Result<(), Violations> {
        let v = self.violations("");
        if v.is_empty() { Ok(()) } else { Err(v.into()) }
    }
}

/// The resources one aggregator or retailer enrols.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    /// The aggregator's or retailer's member id.
    pub owner_id: String,
    pub resources: Vec<Resource>,
}

impl Portfolio {
    /// Checks every resource and that ids are unique.
    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Vec::new();
        if self.owner_id.trim().is_empty() {
            v.push(Violation::new(
                "owner_id",
                "required",
                "",
                "a portfolio belongs to an aggregator or retailer",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, r) in self.resources.iter().enumerate() {
            v.extend(r.violations(&format!("resources[{i}].")));
            if !seen.insert(r.id.as_str()) {
                v.push(Violation::new(
                    format!("resources[{i}].id"),
                    "unique",
                    r.id.clone(),
                    "each resource id appears once in a portfolio",
                ));
            }
        }
        if v.is_empty() { Ok(()) } else { Err(v.into()) }
    }

    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.id == id)
    }

    /// Total enrolled capacity, kW.
    pub fn capacity_kw(&self) -> i64 {
        self.resources.iter().map(|r| r.capacity_kw).sum()
    }
}

#[cfg(test)]
pub(crate) fn example(id: &str, capacity_kw: i64) -> Resource {
    Resource {
        id: id.into(),
        customer_id: format!("C-{id}"),
        metering_point: format!("MP-{id}"),
        capacity_kw,
        direction: Direction::Down,
        min_notice_minutes: 60,
        max_duration_minutes: 240,
        max_events_per_month: 4,
        telemetry_interval_minutes: 15,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_each_field_and_rule() {
        let mut r = example("R1", 0);
        r.telemetry_interval_minutes = 7;
        r.max_events_per_month = 0;
        let v = r.validate().unwrap_err();
        let got: Vec<(String, String)> =
            v.0.iter()
                .map(|x| (x.field.clone(), x.rule.clone()))
                .collect();
        assert_eq!(
            got,
            vec![
                ("capacity_kw".into(), "positive".into()),
                ("max_events_per_month".into(), "positive".into()),
                (
                    "telemetry_interval_minutes".into(),
                    "one_of_5_15_30_60".into()
                ),
            ]
        );
        assert!(example("R1", 100).validate().is_ok());
    }

    #[test]
    fn portfolio_refuses_duplicate_resource_ids() {
        let p = Portfolio {
            owner_id: "AGG".into(),
            resources: vec![example("R1", 10), example("R1", 20)],
        };
        let v = p.validate().unwrap_err();
        assert_eq!(v.0.len(), 1);
        assert_eq!(v.0[0].field, "resources[1].id");
        assert_eq!(v.0[0].rule, "unique");
        assert_eq!(p.capacity_kw(), 30);
    }
}
