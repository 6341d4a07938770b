//! The transmission network as the market sees it: buses, branches,
//! transmission sections and inter-area tie lines, with the invariants a
//! network must satisfy before it can be cleared (`Network::validate`).
//!
//! Quantities follow the MATPOWER conventions the cases are written in: loads
//! and limits in MW / MVAr, impedances in per unit on `base_mva`, angles in
//! degrees. This module holds plain data and rules only; it must not read
//! files (that is `voltex-formats`) nor solve anything (that is
//! `voltex-clearing`).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// A power network (one synchronous system, possibly with several areas).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Human-readable name (the case name for imported cases).
    pub name: String,
    /// System MVA base of the per-unit quantities.
    pub base_mva: f64,
    pub buses: Vec<Bus>,
    pub branches: Vec<Branch>,
    /// Transmission sections (flowgates): limits on a signed sum of branch flows.
    #[serde(default)]
    pub sections: Vec<Section>,
    /// Branches that connect two areas, named for publication.
    #[serde(default)]
    pub tie_lines: Vec<TieLine>,
}

/// Role of a bus in a power-flow study (MATPOWER bus type 1..4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusKind {
    /// PQ bus (type 1).
    Load,
    /// PV bus (type 2).
    Generator,
    /// Reference / slack bus (type 3): the angle reference.
    Reference,
    /// Isolated bus (type 4): out of service.
    Isolated,
}

impl BusKind {
    /// MATPOWER's numeric bus type.
    pub fn matpower_code(self) -> u8 {
        match self {
            BusKind::Load => 1,
            BusKind::Generator => 2,
            BusKind::Reference => 3,
            BusKind::Isolated => 4,
        }
    }

    /// The kind for MATPOWER's numeric bus type, if it is one of 1..4.
    pub fn from_matpower_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(BusKind::Load),
            2 => Some(BusKind::Generator),
            3 => Some(BusKind::Reference),
            4 => Some(BusKind::Isolated),
            _ => None,
        }
    }
}

/// A bus (node) of the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bus {
    /// The bus number as written in the case (not necessarily contiguous).
    pub id: u32,
    pub kind: BusKind,
    /// Fixed active load, MW.
    pub pd_mw: f64,
    /// Fixed reactive load, MVAr.
    pub qd_mvar: f64,
    /// Shunt conductance, MW consumed at 1.0 pu voltage.
    pub gs_mw: f64,
    /// Shunt susceptance, MVAr injected at 1.0 pu voltage.
    pub bs_mvar: f64,
    pub area: u32,
    /// Voltage magnitude of the stored operating point, pu.
    #[serde(default = "one")]
    pub vm_pu: f64,
    /// Voltage angle of the stored operating point, degrees.
    #[serde(default)]
    pub va_deg: f64,
    pub base_kv: f64,
    pub zone: u32,
    pub vmax_pu: f64,
    pub vmin_pu: f64,
}

fn one() -> f64 {
    1.0
}

/// A line or transformer between two buses (π model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// Bus id (not index) at the "from" end.
    pub from_bus: u32,
    /// Bus id (not index) at the "to" end.
    pub to_bus: u32,
    /// Series resistance, pu.
    pub r_pu: f64,
    /// Series reactance, pu. Negative only for series capacitors (see `validate`).
    pub x_pu: f64,
    /// Total line charging susceptance, pu.
    pub b_pu: f64,
    /// Long-term thermal rating, MW (MATPOWER: MVA); 0 means unlimited.
    pub rate_a_mw: f64,
    /// Short-term rating, MW; 0 means unlimited.
    pub rate_b_mw: f64,
    /// Emergency rating, MW; 0 means unlimited.
    pub rate_c_mw: f64,
    /// Off-nominal tap ratio; 0 means a line (ratio 1).
    pub tap_ratio: f64,
    /// Phase shift angle, degrees.
    pub shift_deg: f64,
    pub in_service: bool,
    /// Minimum angle difference θ_from − θ_to, degrees.
    pub angmin_deg: f64,
    /// Maximum angle difference θ_from − θ_to, degrees.
    pub angmax_deg: f64,
}

impl Branch {
    /// DC series susceptance b = −x / (r² + x²) in pu, the convention of the
    /// PowerModels DC formulation. The DC flow from → to is −b·(θf − θt)·base.
    pub fn dc_susceptance_pu(&self) -> f64 {
        -self.x_pu / (self.r_pu * self.r_pu + self.x_pu * self.x_pu)
    }

    /// The thermal limit used by market clearing (`rate_a`), `None` if unlimited.
    pub fn thermal_limit_mw(&self) -> Option<f64> {
        (self.rate_a_mw > 0.0).then_some(self.rate_a_mw)
    }
}

/// A transmission section (flowgate): the signed sum of the flows on its
/// member branches must stay within ±`limit_mw`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub name: String,
    /// (index into `Network::branches`, direction +1 or −1).
    pub members: Vec<(usize, i8)>,
    /// Limit on |Σ direction·flow|, MW.
    pub limit_mw: f64,
}

/// A branch that crosses an area boundary, named for publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TieLine {
    pub name: String,
    /// Index into `Network::branches`.
    pub branch: usize,
    pub from_area: u32,
    pub to_area: u32,
}

/// One broken rule of a network; `validate` returns all of them.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum NetworkError {
    #[error("network: base_mva must be a positive finite number, got {0}")]
    NonPositiveBaseMva(f64),
    #[error("network: has no buses")]
    NoBuses,
    #[error("bus {id}: duplicate bus id (first at index {first}, again at index {again})")]
    DuplicateBusId { id: u32, first: usize, again: usize },
    #[error("bus {id}: field {field} must be finite, got {value}")]
    BusNotFinite {
        id: u32,
        field: &'static str,
        value: f64,
    },
    #[error("bus {id}: vmin_pu {vmin} exceeds vmax_pu {vmax}")]
    BusVoltageRangeInverted { id: u32, vmin: f64, vmax: f64 },
    #[error("branch {index} ({from}->{to}): {end} bus {bus} does not exist")]
    UnknownBus {
        index: usize,
        from: u32,
        to: u32,
        end: &'static str,
        bus: u32,
    },
    #[error("branch {index} ({from}->{to}): connects bus {from} to itself")]
    SelfLoop { index: usize, from: u32, to: u32 },
    #[error("branch {index} ({from}->{to}): field {field} must be finite, got {value}")]
    BranchNotFinite {
        index: usize,
        from: u32,
        to: u32,
        field: &'static str,
        value: f64,
    },
    #[error(
        "branch {index} ({from}->{to}): reactance x_pu={x} is not allowed; x must be positive, \
         or negative only for a pure series capacitor (r_pu = 0 and b_pu = 0), got r_pu={r}"
    )]
    NonPositiveReactance {
        index: usize,
        from: u32,
        to: u32,
        x: f64,
        r: f64,
    },
    #[error("branch {index} ({from}->{to}): {field} must not be negative, got {value}")]
    NegativeRating {
        index: usize,
        from: u32,
        to: u32,
        field: &'static str,
        value: f64,
    },
    #[error("branch {index} ({from}->{to}): tap_ratio must not be negative, got {value}")]
    NegativeTapRatio {
        index: usize,
        from: u32,
        to: u32,
        value: f64,
    },
    #[error("branch {index} ({from}->{to}): angmin_deg {angmin} exceeds angmax_deg {angmax}")]
    AngleRangeInverted {
        index: usize,
        from: u32,
        to: u32,
        angmin: f64,
        angmax: f64,
    },
    #[error("section {name}: has no member branches")]
    EmptySection { name: String },
    #[error("section {name}: member branch index {branch} does not exist ({count} branches)")]
    SectionUnknownBranch {
        name: String,
        branch: usize,
        count: usize,
    },
    #[error("section {name}: direction of branch {branch} must be +1 or -1, got {direction}")]
    SectionBadDirection {
        name: String,
        branch: usize,
        direction: i8,
    },
    #[error("section {name}: limit_mw must be a positive finite number, got {limit}")]
    SectionBadLimit { name: String, limit: f64 },
    #[error("section {name}: name used twice")]
    DuplicateSectionName { name: String },
    #[error("tie line {name}: branch index {branch} does not exist ({count} branches)")]
    TieLineUnknownBranch {
        name: String,
        branch: usize,
        count: usize,
    },
    #[error(
        "tie line {name}: declared areas {from_area}->{to_area} do not match the areas of its \
         end buses {bus_from_area}->{bus_to_area}"
    )]
    TieLineAreaMismatch {
        name: String,
        from_area: u32,
        to_area: u32,
        bus_from_area: u32,
        bus_to_area: u32,
    },
}

impl Network {
    /// Map from bus id to its index in `buses` (first occurrence wins).
    pub fn bus_index(&self) -> HashMap<u32, usize> {
        let mut map = HashMap::with_capacity(self.buses.len());
        for (i, b) in self.buses.iter().enumerate() {
            map.entry(b.id).or_insert(i);
        }
        map
    }

    /// Total fixed active load, MW (shunt conductance excluded).
    pub fn total_load_mw(&self) -> f64 {
        self.buses.iter().map(|b| b.pd_mw).sum()
    }

    /// Check every rule and report every violation, naming the element.
    pub fn validate(&self) -> Result<(), Vec<NetworkError>> {
        let mut errors = Vec::new();
        if !(self.base_mva.is_finite() && self.base_mva > 0.0) {
            errors.push(NetworkError::NonPositiveBaseMva(self.base_mva));
        }
        if self.buses.is_empty() {
            errors.push(NetworkError::NoBuses);
        }
        let mut seen: HashMap<u32, usize> = HashMap::new();
        for (i, b) in self.buses.iter().enumerate() {
            if let Some(&first) = seen.get(&b.id) {
                errors.push(NetworkError::DuplicateBusId {
                    id: b.id,
                    first,
                    again: i,
                });
            } else {
                seen.insert(b.id, i);
            }
            for (field, value) in [
                ("pd_mw", b.pd_mw),
                ("qd_mvar", b.qd_mvar),
                ("gs_mw", b.gs_mw),
                ("bs_mvar", b.bs_mvar),
                ("vmax_pu", b.vmax_pu),
                ("vmin_pu", b.vmin_pu),
            ] {
                if !value.is_finite() {
                    errors.push(NetworkError::BusNotFinite {
                        id: b.id,
                        field,
                        value,
                    });
                }
            }
            if b.vmin_pu > b.vmax_pu {
                errors.push(NetworkError::BusVoltageRangeInverted {
                    id: b.id,
                    vmin: b.vmin_pu,
                    vmax: b.vmax_pu,
                });
            }
        }
        for (index, br) in self.branches.iter().enumerate() {
            let (from, to) = (br.from_bus, br.to_bus);
            for (end, bus) in [("from", from), ("to", to)] {
                if !seen.contains_key(&bus) {
                    errors.push(NetworkError::UnknownBus {
                        index,
                        from,
                        to,
                        end,
                        bus,
                    });
                }
            }
            if from == to {
                errors.push(NetworkError::SelfLoop { index, from, to });
            }
            let mut finite = true;
            for (field, value) in [
                ("r_pu", br.r_pu),
                ("x_pu", br.x_pu),
                ("b_pu", br.b_pu),
                ("rate_a_mw", br.rate_a_mw),
                ("rate_b_mw", br.rate_b_mw),
                ("rate_c_mw", br.rate_c_mw),
                ("tap_ratio", br.tap_ratio),
                ("shift_deg", br.shift_deg),
                ("angmin_deg", br.angmin_deg),
                ("angmax_deg", br.angmax_deg),
            ] {
                if !value.is_finite() {
                    finite = false;
                    errors.push(NetworkError::BranchNotFinite {
                        index,
                        from,
                        to,
                        field,
                        value,
                    });
                }
            }
            if !finite {
                continue;
            }
            let series_capacitor = br.x_pu < 0.0 && br.r_pu == 0.0 && br.b_pu == 0.0;
            if br.x_pu == 0.0 || (br.x_pu < 0.0 && !series_capacitor) {
                errors.push(NetworkError::NonPositiveReactance {
                    index,
                    from,
                    to,
                    x: br.x_pu,
                    r: br.r_pu,
                });
            }
            for (field, value) in [
                ("rate_a_mw", br.rate_a_mw),
                ("rate_b_mw", br.rate_b_mw),
                ("rate_c_mw", br.rate_c_mw),
            ] {
                if value < 0.0 {
                    errors.push(NetworkError::NegativeRating {
                        index,
                        from,
                        to,
                        field,
                        value,
                    });
                }
            }
            if br.tap_ratio < 0.0 {
                errors.push(NetworkError::NegativeTapRatio {
                    index,
                    from,
                    to,
                    value: br.tap_ratio,
                });
            }
            if br.angmin_deg > br.angmax_deg {
                errors.push(NetworkError::AngleRangeInverted {
                    index,
                    from,
                    to,
                    angmin: br.angmin_deg,
                    angmax: br.angmax_deg,
                });
            }
        }
        let count = self.branches.len();
        let mut names = HashSet::new();
        for s in &self.sections {
            if !names.insert(s.name.as_str()) {
                errors.push(NetworkError::DuplicateSectionName {
                    name: s.name.clone(),
                });
            }
            if s.members.is_empty() {
                errors.push(NetworkError::EmptySection {
                    name: s.name.clone(),
                });
            }
            if !(s.limit_mw.is_finite() && s.limit_mw > 0.0) {
                errors.push(NetworkError::SectionBadLimit {
                    name: s.name.clone(),
                    limit: s.limit_mw,
                });
            }
            for &(branch, direction) in &s.members {
                if branch >= count {
                    errors.push(NetworkError::SectionUnknownBranch {
                        name: s.name.clone(),
                        branch,
                        count,
                    });
                }
                if direction != 1 && direction != -1 {
                    errors.push(NetworkError::SectionBadDirection {
                        name: s.name.clone(),
                        branch,
                        direction,
                    });
                }
            }
        }
        for t in &self.tie_lines {
            let Some(br) = self.branches.get(t.branch) else {
                errors.push(NetworkError::TieLineUnknownBranch {
                    name: t.name.clone(),
                    branch: t.branch,
                    count,
                });
                continue;
            };
            if let (Some(&fi), Some(&ti)) = (seen.get(&br.from_bus), seen.get(&br.to_bus)) {
                let (fa, ta) = (self.buses[fi].area, self.buses[ti].area);
                let matches = (fa, ta) == (t.from_area, t.to_area);
                if !matches {
                    errors.push(NetworkError::TieLineAreaMismatch {
                        name: t.name.clone(),
                        from_area: t.from_area,
                        to_area: t.to_area,
                        bus_from_area: fa,
                        bus_to_area: ta,
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bus(id: u32) -> Bus {
        Bus {
            id,
            kind: BusKind::Load,
            pd_mw: 10.0,
            qd_mvar: 0.0,
            gs_mw: 0.0,
            bs_mvar: 0.0,
            area: 1,
            vm_pu: 1.0,
            va_deg: 0.0,
            base_kv: 230.0,
            zone: 1,
            vmax_pu: 1.1,
            vmin_pu: 0.9,
        }
    }

    fn branch(from: u32, to: u32, x: f64) -> Branch {
        Branch {
            from_bus: from,
            to_bus: to,
            r_pu: 0.01,
            x_pu: x,
            b_pu: 0.0,
            rate_a_mw: 100.0,
            rate_b_mw: 0.0,
            rate_c_mw: 0.0,
            tap_ratio: 0.0,
            shift_deg: 0.0,
            in_service: true,
            angmin_deg: -30.0,
            angmax_deg: 30.0,
        }
    }

    fn three_bus() -> Network {
        Network {
            name: "t".into(),
            base_mva: 100.0,
            buses: vec![bus(1), bus(2), bus(3)],
            branches: vec![branch(1, 2, 0.1), branch(2, 3, 0.1), branch(1, 3, 0.1)],
            sections: vec![],
            tie_lines: vec![],
        }
    }

    #[test]
    fn valid_network_passes() {
        assert_eq!(three_bus().validate(), Ok(()));
    }

    #[test]
    fn reports_every_problem_naming_the_element() {
        let mut n = three_bus();
        n.buses.push(bus(2));
        n.branches.push(branch(1, 9, 0.1));
        n.branches[0].x_pu = -0.2;
        n.sections.push(Section {
            name: "S1".into(),
            members: vec![(7, 1), (0, 2)],
            limit_mw: 50.0,
        });
        let errs = n.validate().unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert!(
            text.iter().any(|t| t.contains("bus 2: duplicate bus id")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("to bus 9 does not exist")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("branch 0 (1->2): reactance")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("section S1: member branch index 7")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("direction of branch 0 must be +1 or -1"))
        );
        assert_eq!(errs.len(), 5);
    }

    #[test]
    fn accepts_pure_series_capacitor_but_refuses_zero_reactance() {
        let mut n = three_bus();
        n.branches[0].x_pu = -0.05;
        n.branches[0].r_pu = 0.0;
        assert_eq!(n.validate(), Ok(()));
        n.branches[1].x_pu = 0.0;
        let errs = n.validate().unwrap_err();
        assert!(matches!(
            errs[0],
            NetworkError::NonPositiveReactance { index: 1, .. }
        ));
    }

    #[test]
    fn tie_line_areas_must_match_end_buses() {
        let mut n = three_bus();
        n.buses[2].area = 2;
        n.tie_lines.push(TieLine {
            name: "T".into(),
            branch: 1,
            from_area: 1,
            to_area: 2,
        });
        assert_eq!(n.validate(), Ok(()));
        n.tie_lines[0].to_area = 3;
        assert!(matches!(
            n.validate().unwrap_err()[0],
            NetworkError::TieLineAreaMismatch { .. }
        ));
    }

    #[test]
    fn dc_susceptance_follows_powermodels_convention() {
        let b = branch(1, 2, 0.1);
        let expected = -0.1 / (0.01f64.powi(2) + 0.01);
        assert!((b.dc_susceptance_pu() - expected).abs() < 1e-12);
    }

    #[test]
    fn network_round_trips_through_json() {
        let n = three_bus();
        let text = serde_json::to_string(&n).unwrap();
        assert_eq!(serde_json::from_str::<Network>(&text).unwrap(), n);
    }
}
