//! The one public input of the clearing engine: a network, generating units
//! with their offers, price-sensitive demand bids, fixed loads per interval and
//! the settings of the run, all plain JSON-serialisable data.
//!
//! `ClearingInput::validate` refuses inconsistent input with errors that name
//! the element and the rule; `ClearingInput::from_case` derives an input from
//! a MATPOWER case (step offers from the cost polynomial, as documented in
//! docs/clearing.md). This module does not solve anything.

use serde::{Deserialize, Serialize};
use voltex_formats::matpower::{GeneratorCost, MatpowerCase};
use voltex_model::network::{Branch, Network};

use crate::error::{ClearingError, InputProblem};

/// Everything one clearing run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClearingInput {
    pub network: Network,
    /// Number of intervals T (e.g. 24 hourly or 96 quarter-hourly).
    pub intervals: usize,
    /// Length of one interval in minutes (energy = MW × minutes / 60).
    #[serde(default = "default_interval_minutes")]
    pub interval_minutes: f64,
    /// Factor per interval applied to every bus's `pd_mw` (length T).
    /// Bus shunt conductance `gs_mw` is counted as constant load, not scaled.
    #[serde(default)]
    pub load_scale: Vec<f64>,
    /// Optional explicit fixed loads, MW, `[interval][bus index]`; when given it
    /// replaces `pd_mw × load_scale` (shunt conductance is still added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus_load_mw: Option<Vec<Vec<f64>>>,
    pub units: Vec<Unit>,
    #[serde(default)]
    pub demand_bids: Vec<DemandBid>,
    #[serde(default)]
    pub settings: ClearingSettings,
}

fn default_interval_minutes() -> f64 {
    60.0
}

/// A generating unit and its offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub id: String,
    /// Bus id (MATPOWER bus number) the unit injects at.
    pub bus: u32,
    /// Minimum output when on, MW. Output up to pmin is must-run and unpriced
    /// in step mode (its cost is reported separately as `must_run_cost`).
    pub pmin_mw: f64,
    pub pmax_mw: f64,
    /// Largest increase of output between consecutive intervals, MW; `None` = unlimited.
    #[serde(default)]
    pub ramp_up_mw: Option<f64>,
    /// Largest decrease of output between consecutive intervals, MW; `None` = unlimited.
    #[serde(default)]
    pub ramp_down_mw: Option<f64>,
    /// Output in the interval before the first one, MW (ramp limits apply to it).
    #[serde(default)]
    pub initial_output_mw: Option<f64>,
    /// On/off status per interval (length T) from the commitment; empty = on throughout.
    #[serde(default)]
    pub status: Vec<bool>,
    /// A must-run unit is on in every interval whatever `status` says.
    #[serde(default)]
    pub must_run: bool,
    /// Step offer above pmin, in increasing price order; applies to every interval
    /// unless `offer_by_interval` is given.
    #[serde(default)]
    pub offer: Vec<OfferSegment>,
    /// Optional step offer per interval (length T), overriding `offer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_by_interval: Option<Vec<Vec<OfferSegment>>>,
    /// Cost polynomial used in `CostMode::Polynomial` (validation against OPF results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quadratic_cost: Option<QuadraticCost>,
}

/// One price–quantity step of an offer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OfferSegment {
    pub quantity_mw: f64,
    pub price_per_mwh: f64,
}

/// cost(P) = c2·P² + c1·P + c0 in $/h with P in MW.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuadraticCost {
    pub c2_per_mw2h: f64,
    pub c1_per_mwh: f64,
    pub c0_per_h: f64,
}

impl QuadraticCost {
    pub fn cost_per_h(&self, p_mw: f64) -> f64 {
        self.c2_per_mw2h * p_mw * p_mw + self.c1_per_mwh * p_mw + self.c0_per_h
    }
    pub fn marginal_per_mwh(&self, p_mw: f64) -> f64 {
        2.0 * self.c2_per_mw2h * p_mw + self.c1_per_mwh
    }
}

/// A price-sensitive demand bid: the buyer takes any quantity up to each
/// segment's size when the price at its bus is at or below the segment price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandBid {
    pub id: String,
    pub bus: u32,
    /// Segments in decreasing price order; apply to every interval unless
    /// `segments_by_interval` is given.
    pub segments: Vec<BidSegment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments_by_interval: Option<Vec<Vec<BidSegment>>>,
}

/// One price–quantity step of a demand bid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BidSegment {
    pub quantity_mw: f64,
    pub price_per_mwh: f64,
}

/// Which cost the objective uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CostMode {
    /// Market clearing on step offers (an LP).
    #[default]
    Steps,
    /// The units' quadratic cost between pmin and pmax (a convex QP), for
    /// validation against published OPF results.
    Polynomial,
}

/// Parameters of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClearingSettings {
    #[serde(default)]
    pub cost_mode: CostMode,
    /// Value of lost load: the price of unserved fixed load, $/MWh.
    #[serde(default = "default_voll")]
    pub value_of_lost_load_per_mwh: f64,
    /// Penalty for over-generation (must-run output that cannot be absorbed), $/MWh.
    #[serde(default = "default_overgen")]
    pub over_generation_penalty_per_mwh: f64,
    /// Enforce branch thermal (rate_a) and angle-difference limits.
    #[serde(default = "yes")]
    pub enforce_branch_limits: bool,
    /// A flow counts as a violation above limit × (1 + this) + 1e-6 MW.
    #[serde(default = "default_violation_tolerance")]
    pub violation_tolerance: f64,
    /// Branches loaded above this fraction of their limit are added to the
    /// model together with the violated ones (fewer rounds).
    #[serde(default = "default_add_threshold")]
    pub add_threshold: f64,
    /// Upper bound on constraint-generation rounds.
    #[serde(default = "default_max_rounds")]
    pub max_rounds: usize,
    /// N-1 security: post-contingency flow limits for single-branch
    /// outages (docs/clearing.md, "N-1 security"); `None` = base case only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SecuritySettings>,
}

/// Which branches an N-1 study covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BranchSet {
    /// Every in-service branch (for monitoring: every branch with a rating).
    #[default]
    All,
    /// These branches, by index in `network.branches` (0-based, as `BranchFlow.index`).
    Branches(Vec<usize>),
}

/// Which rating bounds the flow after an outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyRating {
    /// `rate_a_mw`, the long-term rating (the strictest choice).
    RateA,
    /// `rate_b_mw`, the short-term rating (`rate_a_mw` where it is 0).
    RateB,
    /// `rate_c_mw`, the emergency rating (`rate_a_mw` where it is 0).
    #[default]
    RateC,
}

/// The N-1 contingency study added to the dispatch: for every outage k in
/// `contingencies` and monitored branch l ≠ k, |f_l + LODF_lk·f_k| must stay
/// within l's emergency rating in every interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SecuritySettings {
    /// Branch outages studied.
    #[serde(default)]
    pub contingencies: BranchSet,
    /// Branches whose post-contingency flow is limited.
    #[serde(default)]
    pub monitored: BranchSet,
    #[serde(default)]
    pub emergency_rating: EmergencyRating,
    /// When N-1 cannot be met: `false` (default) refuses the run with
    /// `SecurityInfeasible`; `true` keeps the secure dispatch with its priced
    /// shortfalls (load at risk) and puts the same message in a warning.
    #[serde(default)]
    pub allow_shortfall: bool,
}

impl SecuritySettings {
    /// The post-contingency limit of a branch, MW: the chosen rating, or
    /// `rate_a_mw` where that rating is 0; `None` (not monitored) when both are 0.
    pub fn emergency_limit_mw(&self, branch: &Branch) -> Option<f64> {
        let chosen = match self.emergency_rating {
            EmergencyRating::RateA => branch.rate_a_mw,
            EmergencyRating::RateB => branch.rate_b_mw,
            EmergencyRating::RateC => branch.rate_c_mw,
        };
        let r = if chosen > 0.0 {
            chosen
        } else {
            branch.rate_a_mw
        };
        (r > 0.0).then_some(r)
    }
}

impl BranchSet {
    /// Whether branch index `l` belongs to the set.
    pub fn contains(&self, l: usize) -> bool {
        match self {
            BranchSet::All => true,
            BranchSet::Branches(v) => v.contains(&l),
        }
    }
}

fn default_voll() -> f64 {
    10_000.0
}
fn default_overgen() -> f64 {
    1_000.0
}
fn yes() -> bool {
    true
}
fn default_violation_tolerance() -> f64 {
    1e-6
}
fn default_add_threshold() -> f64 {
    0.99
}
fn default_max_rounds() -> usize {
    50
}

impl Default for ClearingSettings {
    fn default() -> Self {
        ClearingSettings {
            cost_mode: CostMode::Steps,
            value_of_lost_load_per_mwh: default_voll(),
            over_generation_penalty_per_mwh: default_overgen(),
            enforce_branch_limits: true,
            violation_tolerance: default_violation_tolerance(),
            add_threshold: default_add_threshold(),
            max_rounds: default_max_rounds(),
            security: None,
        }
    }
}

/// How `ClearingInput::from_case` turns case generators into units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FromCaseOptions {
    pub intervals: usize,
    /// Step segments per unit between pmin and pmax (K).
    pub segments: usize,
    /// Load factor per interval; empty = 1.0 throughout.
    pub load_scale: Vec<f64>,
    /// Ramp limit as a fraction of pmax per interval where the case gives no
    /// ramp data (`None` = unlimited).
    pub default_ramp_fraction: Option<f64>,
    pub settings: ClearingSettings,
}

impl Default for FromCaseOptions {
    fn default() -> Self {
        FromCaseOptions {
            intervals: 1,
            segments: 5,
            load_scale: vec![],
            default_ramp_fraction: None,
            settings: ClearingSettings::default(),
        }
    }
}

/// Step offer from a cost curve: K equal-width segments between pmin and
/// pmax, each priced at the marginal cost at the segment's midpoint.
pub fn steps_from_cost(
    cost: &GeneratorCost,
    pmin_mw: f64,
    pmax_mw: f64,
    segments: usize,
) -> Vec<OfferSegment> {
    let width = pmax_mw - pmin_mw;
    if width <= 0.0 || segments == 0 {
        return vec![];
    }
    let q = width / segments as f64;
    let mut out: Vec<OfferSegment> = (0..segments)
        .map(|k| {
            let mid = pmin_mw + q * (k as f64 + 0.5);
            OfferSegment {
                quantity_mw: q,
                price_per_mwh: cost.marginal_cost_at(mid),
            }
        })
        .collect();
    // a concave curve would give decreasing steps; the market requires monotone
    // offers, so each step is raised to at least the one before it
    for k in 1..out.len() {
        if out[k].price_per_mwh < out[k - 1].price_per_mwh {
            out[k].price_per_mwh = out[k - 1].price_per_mwh;
        }
    }
    out
}

impl ClearingInput {
    /// Units from the case's in-service generators (`gen<row>` ids, rows
    /// counted from 1), step offers from their costs, loads from the buses.
    pub fn from_case(case: &MatpowerCase, options: &FromCaseOptions) -> ClearingInput {
        let t = options.intervals.max(1);
        let mut units = Vec::new();
        for (i, g) in case.generators.iter().enumerate() {
            if !g.in_service {
                continue;
            }
            let quadratic = match &g.cost {
                GeneratorCost::Polynomial { coeffs, .. } => {
                    let n = coeffs.len();
                    let get = |power: usize| {
                        if power < n {
                            coeffs[n - 1 - power]
                        } else {
                            0.0
                        }
                    };
                    Some(QuadraticCost {
                        c2_per_mw2h: get(2),
                        c1_per_mwh: get(1),
                        c0_per_h: get(0),
                    })
                }
                GeneratorCost::PiecewiseLinear { .. } => None,
            };
            let ramp = case_ramp(
                g.ramp_30,
                g.ramp_agc,
                options.default_ramp_fraction,
                g.pmax_mw,
            );
            units.push(Unit {
                id: format!("gen{}", i + 1),
                bus: g.bus,
                pmin_mw: g.pmin_mw,
                pmax_mw: g.pmax_mw,
                ramp_up_mw: ramp,
                ramp_down_mw: ramp,
                initial_output_mw: None,
                status: vec![],
                must_run: false,
                offer: steps_from_cost(&g.cost, g.pmin_mw, g.pmax_mw, options.segments),
                offer_by_interval: None,
                quadratic_cost: quadratic,
            });
        }
        let load_scale = if options.load_scale.is_empty() {
            vec![1.0; t]
        } else {
            options.load_scale.clone()
        };
        ClearingInput {
            network: case.network.clone(),
            intervals: t,
            interval_minutes: 60.0,
            load_scale,
            bus_load_mw: None,
            units,
            demand_bids: vec![],
            settings: options.settings.clone(),
        }
    }

    /// Is unit `u` on in interval `t`?
    pub fn unit_on(&self, u: usize, t: usize) -> bool {
        let unit = &self.units[u];
        unit.must_run || unit.status.is_empty() || unit.status.get(t).copied().unwrap_or(false)
    }

    /// The step offer of unit `u` in interval `t`.
    pub fn offer(&self, u: usize, t: usize) -> &[OfferSegment] {
        let unit = &self.units[u];
        match &unit.offer_by_interval {
            Some(v) => &v[t],
            None => &unit.offer,
        }
    }

    /// The bid segments of demand bid `j` in interval `t`.
    pub fn bid(&self, j: usize, t: usize) -> &[BidSegment] {
        let bid = &self.demand_bids[j];
        match &bid.segments_by_interval {
            Some(v) => &v[t],
            None => &bid.segments,
        }
    }

    /// Fixed load at bus index `b` in interval `t`, MW (incl. shunt conductance).
    pub fn fixed_load_mw(&self, b: usize, t: usize) -> f64 {
        let bus = &self.network.buses[b];
        let pd = match &self.bus_load_mw {
            Some(rows) => rows[t][b],
            None => bus.pd_mw * self.load_scale.get(t).copied().unwrap_or(1.0),
        };
        pd + bus.gs_mw
    }

    /// Check everything and report every problem, naming the element and rule.
    pub fn validate(&self) -> Result<(), ClearingError> {
        let mut problems: Vec<InputProblem> = Vec::new();
        if let Err(errs) = self.network.validate() {
            problems.extend(
                errs.into_iter()
                    .map(|e| InputProblem::new("network", e.to_string())),
            );
        }
        let t = self.intervals;
        if t == 0 {
            problems.push(InputProblem::new("intervals", "must be at least 1".into()));
        }
        if !(self.interval_minutes > 0.0 && self.interval_minutes.is_finite()) {
            problems.push(InputProblem::new(
                "interval_minutes",
                "must be a positive number".into(),
            ));
        }
        if !self.load_scale.is_empty() && self.load_scale.len() != t {
            problems.push(InputProblem::new(
                "load_scale",
                format!(
                    "has {} factors but there are {t} intervals",
                    self.load_scale.len()
                ),
            ));
        }
        if let Some((i, f)) = self
            .load_scale
            .iter()
            .enumerate()
            .find(|(_, f)| !f.is_finite() || **f < 0.0)
        {
            problems.push(InputProblem::new(
                &format!("load_scale[{i}]"),
                format!("must be a finite non-negative factor, got {f}"),
            ));
        }
        if let Some(rows) = &self.bus_load_mw {
            let nb = self.network.buses.len();
            if rows.len() != t || rows.iter().any(|r| r.len() != nb) {
                problems.push(InputProblem::new(
                    "bus_load_mw",
                    format!("must be {t} rows of {nb} bus loads"),
                ));
            } else if rows.iter().flatten().any(|v| !v.is_finite()) {
                problems.push(InputProblem::new(
                    "bus_load_mw",
                    "must contain finite numbers".into(),
                ));
            }
        }
        let buses = self.network.bus_index();
        let mut ids = std::collections::HashSet::new();
        for u in &self.units {
            let el = format!("unit {}", u.id);
            if !ids.insert(u.id.as_str()) {
                problems.push(InputProblem::new(&el, "id used twice".into()));
            }
            if !buses.contains_key(&u.bus) {
                problems.push(InputProblem::new(
                    &el,
                    format!("bus {} does not exist", u.bus),
                ));
            }
            if !(u.pmin_mw.is_finite() && u.pmax_mw.is_finite()) {
                problems.push(InputProblem::new(
                    &el,
                    "pmin_mw and pmax_mw must be finite".into(),
                ));
            } else if u.pmin_mw > u.pmax_mw {
                problems.push(InputProblem::new(
                    &el,
                    format!("pmin_mw {} exceeds pmax_mw {}", u.pmin_mw, u.pmax_mw),
                ));
            }
            for (name, r) in [
                ("ramp_up_mw", u.ramp_up_mw),
                ("ramp_down_mw", u.ramp_down_mw),
            ] {
                if let Some(r) = r
                    && (r.is_nan() || r < 0.0)
                {
                    problems.push(InputProblem::new(
                        &el,
                        format!("{name} must be non-negative, got {r}"),
                    ));
                }
            }
            if !u.status.is_empty() && u.status.len() != t {
                problems.push(InputProblem::new(
                    &el,
                    format!(
                        "status has {} entries but there are {t} intervals",
                        u.status.len()
                    ),
                ));
            }
            let offers: Vec<&Vec<OfferSegment>> = match &u.offer_by_interval {
                Some(v) => {
                    if v.len() != t {
                        problems.push(InputProblem::new(
                            &el,
                            format!(
                                "offer_by_interval has {} entries but there are {t} intervals",
                                v.len()
                            ),
                        ));
                    }
                    v.iter().collect()
                }
                None => vec![&u.offer],
            };
            for (k, offer) in offers.iter().enumerate() {
                check_steps(
                    &mut problems,
                    &el,
                    k,
                    offer.iter().map(|s| (s.quantity_mw, s.price_per_mwh)),
                    true,
                );
                let total: f64 = offer.iter().map(|s| s.quantity_mw).sum();
                if total > u.pmax_mw - u.pmin_mw + 1e-6 * (1.0 + u.pmax_mw.abs()) {
                    problems.push(InputProblem::new(
                        &el,
                        format!(
                            "offer quantities sum to {total} MW, more than pmax_mw − pmin_mw = {}",
                            u.pmax_mw - u.pmin_mw
                        ),
                    ));
                }
            }
            if self.settings.cost_mode == CostMode::Polynomial {
                match &u.quadratic_cost {
                    None => problems.push(InputProblem::new(
                        &el,
                        "polynomial cost mode needs quadratic_cost".into(),
                    )),
                    Some(q) if q.c2_per_mw2h < 0.0 => problems.push(InputProblem::new(
                        &el,
                        format!(
                            "quadratic cost c2 {} is negative (the QP must be convex)",
                            q.c2_per_mw2h
                        ),
                    )),
                    _ => {}
                }
            }
        }
        let mut bid_ids = std::collections::HashSet::new();
        for d in &self.demand_bids {
            let el = format!("demand bid {}", d.id);
            if !bid_ids.insert(d.id.as_str()) {
                problems.push(InputProblem::new(&el, "id used twice".into()));
            }
            if !buses.contains_key(&d.bus) {
                problems.push(InputProblem::new(
                    &el,
                    format!("bus {} does not exist", d.bus),
                ));
            }
            let segs: Vec<&Vec<BidSegment>> = match &d.segments_by_interval {
                Some(v) => {
                    if v.len() != t {
                        problems.push(InputProblem::new(
                            &el,
                            format!(
                                "segments_by_interval has {} entries but there are {t} intervals",
                                v.len()
                            ),
                        ));
                    }
                    v.iter().collect()
                }
                None => vec![&d.segments],
            };
            for (k, s) in segs.iter().enumerate() {
                check_steps(
                    &mut problems,
                    &el,
                    k,
                    s.iter().map(|s| (s.quantity_mw, s.price_per_mwh)),
                    false,
                );
            }
        }
        let s = &self.settings;
        if !(s.value_of_lost_load_per_mwh > 0.0 && s.value_of_lost_load_per_mwh.is_finite()) {
            problems.push(InputProblem::new(
                "settings",
                "value_of_lost_load_per_mwh must be positive".into(),
            ));
        }
        if !(s.over_generation_penalty_per_mwh >= 0.0
            && s.over_generation_penalty_per_mwh.is_finite())
        {
            problems.push(InputProblem::new(
                "settings",
                "over_generation_penalty_per_mwh must be non-negative".into(),
            ));
        }
        if let Some(sec) = &s.security {
            self.check_security(sec, &mut problems);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ClearingError::InvalidInput(problems))
        }
    }

    /// Branch lists of the N-1 study must name existing, in-service branches.
    fn check_security(&self, sec: &SecuritySettings, problems: &mut Vec<InputProblem>) {
        let branches = &self.network.branches;
        for (field, set) in [
            ("settings.security.contingencies", &sec.contingencies),
            ("settings.security.monitored", &sec.monitored),
        ] {
            let BranchSet::Branches(list) = set else {
                continue;
            };
            for &l in list {
                match branches.get(l) {
                    None => problems.push(InputProblem::new(
                        field,
                        format!(
                            "branch {l} does not exist (the network has {} branches, indexed from 0)",
                            branches.len()
                        ),
                    )),
                    Some(br) if !br.in_service => problems.push(InputProblem::new(
                        field,
                        format!(
                            "branch {l} ({} - {}) is out of service and cannot be studied",
                            br.from_bus, br.to_bus
                        ),
                    )),
                    Some(_) => {}
                }
            }
        }
    }
}

fn check_steps(
    problems: &mut Vec<InputProblem>,
    element: &str,
    set: usize,
    steps: impl Iterator<Item = (f64, f64)>,
    increasing: bool,
) {
    let mut last: Option<f64> = None;
    for (k, (q, p)) in steps.enumerate() {
        if !(q.is_finite() && q >= 0.0) {
            problems.push(InputProblem::new(
                element,
                format!(
                    "segment {k} (set {set}): quantity_mw must be finite and non-negative, got {q}"
                ),
            ));
        }
        if !p.is_finite() {
            problems.push(InputProblem::new(
                element,
                format!("segment {k} (set {set}): price_per_mwh must be finite, got {p}"),
            ));
        }
        if let Some(prev) = last {
            let bad = if increasing { p < prev } else { p > prev };
            if bad {
                let rule = if increasing {
                    "offer prices must not decrease"
                } else {
                    "bid prices must not increase"
                };
                problems.push(InputProblem::new(
                    element,
                    format!(
                        "segment {k} (set {set}): price {p} after {prev}: {rule} (non-monotone)"
                    ),
                ));
            }
        }
        last = Some(p);
    }
}

fn case_ramp(
    ramp_30: Option<f64>,
    ramp_agc: Option<f64>,
    default_fraction: Option<f64>,
    pmax: f64,
) -> Option<f64> {
    // MATPOWER: ramp_30 is MW per 30 minutes, ramp_agc MW per minute; one interval = 60 minutes here
    if let Some(r) = ramp_30.filter(|r| *r > 0.0) {
        return Some(2.0 * r);
    }
    if let Some(r) = ramp_agc.filter(|r| *r > 0.0) {
        return Some(60.0 * r);
    }
    default_fraction.map(|f| f * pmax.abs())
}
