//! Generating units and load resources: the physical things members declare for.
//! Each belongs to exactly one member; a parameter change is a new version in
//! the store, never an overwrite.
use crate::error::{Violation, Violations};
use crate::member::check_identifier;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Fuel or technology of a generating unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Technology {
    Coal,
    Gas,
    Oil,
    Nuclear,
    Hydro,
    PumpedStorage,
    Wind,
    Solar,
    Biomass,
    BatteryStorage,
    Other,
}

/// A generating unit's registered parameters (one version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GeneratingUnit {
    pub id: String,
    /// The owning member; fixed for the unit's life.
    pub member_id: String,
    pub name: String,
    pub technology: Technology,
    /// Bus number in the network (MATPOWER bus id) the unit injects at.
    pub bus: u32,
    pub pmin_mw: f64,
    pub pmax_mw: f64,
    pub ramp_up_mw_per_min: f64,
    pub ramp_down_mw_per_min: f64,
    pub min_up_time_h: f64,
    pub min_down_time_h: f64,
    /// Cost of one start, in the market currency (yuan).
    pub startup_cost: f64,
    /// Must run (e.g. CHP heat duty, grid security): offers must cover pmin.
    #[serde(default)]
    pub must_run: bool,
    /// Lowest output the unit can hold in an emergency (may be below pmin).
    #[serde(default)]
    pub emergency_min_mw: Option<f64>,
    /// Heat supply flow of a combined heat and power unit, t/h.
    #[serde(default)]
    pub heat_supply_flow_t_per_h: Option<f64>,
    /// For units not yet connected: when they are expected on the grid.
    #[serde(default)]
    pub expected_grid_connection: Option<DateTime<Utc>>,
}

impl GeneratingUnit {
    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Violations::default();
        check_identifier(&mut v, "id", &self.id);
        check_identifier(&mut v, "member_id", &self.member_id);
        nonnegative(&mut v, "pmin_mw", self.pmin_mw);
        if !(self.pmax_mw.is_finite() && self.pmax_mw > 0.0) {
            v.push(Violation::new(
                "pmax_mw",
                "positive",
                self.pmax_mw,
                "pmax must be positive",
            ));
        }
        if self.pmin_mw > self.pmax_mw {
            v.push(Violation::new(
                "pmin_mw",
                "pmin_not_above_pmax",
                self.pmin_mw,
                format!("pmin {} MW exceeds pmax {} MW", self.pmin_mw, self.pmax_mw),
            ));
        }
        nonnegative(&mut v, "ramp_up_mw_per_min", self.ramp_up_mw_per_min);
        nonnegative(&mut v, "ramp_down_mw_per_min", self.ramp_down_mw_per_min);
        nonnegative(&mut v, "min_up_time_h", self.min_up_time_h);
        nonnegative(&mut v, "min_down_time_h", self.min_down_time_h);
        nonnegative(&mut v, "startup_cost", self.startup_cost);
        if let Some(e) = self.emergency_min_mw {
            nonnegative(&mut v, "emergency_min_mw", e);
            if e > self.pmax_mw {
                v.push(Violation::new(
                    "emergency_min_mw",
                    "not_above_pmax",
                    e,
                    "emergency minimum output cannot exceed pmax",
                ));
            }
        }
        if let Some(h) = self.heat_supply_flow_t_per_h {
            nonnegative(&mut v, "heat_supply_flow_t_per_h", h);
        }
        v.into_result()
    }
}

/// A load resource: a consumption point a buyer bids for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoadResource {
    pub id: String,
    pub member_id: String,
    pub name: String,
    pub bus: u32,
    /// Share of the resource's load that can be moved or curtailed, 0..=1.
    pub controllable_share: f64,
    /// Largest consumption the resource can draw, MW.
    pub peak_mw: f64,
}

impl LoadResource {
    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Violations::default();
        check_identifier(&mut v, "id", &self.id);
        check_identifier(&mut v, "member_id", &self.member_id);
        if !(0.0..=1.0).contains(&self.controllable_share) {
            v.push(Violation::new(
                "controllable_share",
                "within_0_1",
                self.controllable_share,
                "controllable share must be between 0 and 1",
            ));
        }
        if !(self.peak_mw.is_finite() && self.peak_mw > 0.0) {
            v.push(Violation::new(
                "peak_mw",
                "positive",
                self.peak_mw,
                "peak must be positive",
            ));
        }
        v.into_result()
    }
}

pub(crate) fn nonnegative(v: &mut Violations, field: &str, x: f64) {
    if !(x.is_finite() && x >= 0.0) {
        v.push(Violation::new(
            field,
            "nonnegative",
            x,
            format!("{field} must be a finite number ≥ 0"),
        ));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn coal_unit() -> GeneratingUnit {
        GeneratingUnit {
            id: "u1".into(),
            member_id: "gen1".into(),
            name: "Unit 1".into(),
            technology: Technology::Coal,
            bus: 1,
            pmin_mw: 100.0,
            pmax_mw: 300.0,
            ramp_up_mw_per_min: 3.0,
            ramp_down_mw_per_min: 3.0,
            min_up_time_h: 8.0,
            min_down_time_h: 8.0,
            startup_cost: 50_000.0,
            must_run: false,
            emergency_min_mw: None,
            heat_supply_flow_t_per_h: None,
            expected_grid_connection: None,
        }
    }

    #[test]
    fn rejects_unit_with_pmin_above_pmax() {
        let mut u = coal_unit();
        u.pmin_mw = 400.0;
        assert!(
            u.validate()
                .unwrap_err()
                .has("pmin_mw", "pmin_not_above_pmax")
        );
    }

    #[test]
    fn rejects_negative_ramp_rate() {
        let mut u = coal_unit();
        u.ramp_up_mw_per_min = -1.0;
        assert!(
            u.validate()
                .unwrap_err()
                .has("ramp_up_mw_per_min", "nonnegative")
        );
    }

    #[test]
    fn rejects_controllable_share_above_one() {
        let r = LoadResource {
            id: "r1".into(),
            member_id: "ret1".into(),
            name: "R".into(),
            bus: 2,
            controllable_share: 1.5,
            peak_mw: 10.0,
        };
        assert!(
            r.validate()
                .unwrap_err()
                .has("controllable_share", "within_0_1")
        );
    }
}
